#!/bin/sh
# generate.sh builds vipgate's default prompts from sounds/texts/<lang>.txt
# (one "key<TAB>text" line per prompt, optionally "key<TAB>text<TAB>spoken"
# where spoken is what espeak-ng reads when it would mispronounce the text,
# e.g. German "PIN" spelled out letter by letter) into
# sounds/files/<lang>/<key>.wav:
# 8 kHz mono 16-bit PCM WAV, the format Asterisk plays as ".wav" without
# transcoding.
#
# Needs Debian's espeak-ng and sox:
#   apt-get install -y espeak-ng sox
#
# The output depends only on the texts, the voice settings below and the
# espeak-ng/sox versions (recorded in sounds/files/GENERATOR). Run it from
# anywhere; it works relative to its own directory. After changing a text,
# run it and commit the texts and the WAV files together.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
texts="$here/texts"
out="$here/files"

# Voice per language (espeak-ng voice names) and shared settings.
voice_en=en-gb
voice_de=de
speed=150   # words per minute; espeak-ng's default is 175
pitch=45    # 0..99, default 50
amplitude=120

command -v espeak-ng >/dev/null || { echo "generate.sh: espeak-ng not found (apt-get install -y espeak-ng)" >&2; exit 1; }
command -v sox >/dev/null || { echo "generate.sh: sox not found (apt-get install -y sox)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for file in "$texts"/*.txt; do
	lang=$(basename "$file" .txt)
	eval "voice=\${voice_$lang:-}"
	if [ -z "$voice" ]; then
		echo "generate.sh: no voice configured for language $lang" >&2
		exit 1
	fi
	mkdir -p "$out/$lang"
	# Read key<TAB>text[<TAB>spoken] lines; skip blank lines and # comments.
	while IFS="	" read -r key text spoken; do
		case "$key" in ''|'#'*) continue ;; esac
		if [ -z "$text" ]; then
			echo "generate.sh: $file: key $key has no text" >&2
			exit 1
		fi
		raw="$tmp/$lang-$key.wav"
		espeak-ng -v "$voice" -s "$speed" -p "$pitch" -a "$amplitude" -w "$raw" -- "${spoken:-$text}"
		# Trim leading/trailing silence, normalise to -3 dBFS, add 150 ms of
		# silence before and 300 ms after, resample to 8 kHz mono 16-bit
		# signed PCM without dither (-D keeps the output reproducible).
		sox -D "$raw" -r 8000 -c 1 -b 16 -e signed-integer -t wav "$out/$lang/$key.wav" \
			silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse \
			norm -3 pad 0.15 0.3
		echo "$out/$lang/$key.wav"
	done < "$file"
done

{
	echo "# Tools that generated these files (sounds/generate.sh)."
	espeak-ng --version | head -n 1
	sox --version | head -n 1 | sed 's/^sox: *//'
} > "$out/GENERATOR"
