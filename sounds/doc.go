// Package sounds holds vipgate's default announcements and the helpers that
// bring announcements to Asterisk.
//
// The default prompts (every gate.PromptKey except "welcome") are 8 kHz mono
// 16-bit PCM WAV files in English and German, generated reproducibly from the
// texts in texts/ by generate.sh (espeak-ng and sox) and embedded in the
// binary. Install writes them, together with uploaded prompts, into
// Asterisk's per-language sounds layout:
//
//	<dir>/<lang>/vipgate/<key>.wav                  defaults and global uploads
//	<dir>/<lang>/vipgate/gates/<gateID>/<key>.wav   a gate's own uploads
//
// and Name gives the sound name the call flow plays ("vipgate/ask-pin" or
// "vipgate/gates/hotline/ask-pin"); the language picks the directory.
// Resolver.Prompt (for gate.FlowConfig.Prompt) applies these rules by
// looking at the installed files, so a call never asks for a missing one.
// Handler serves the same tree over HTTP. Playing prompts over HTTP
// (res_http_media_cache) is not proven to work with Asterisk 22; the
// dependable way is Install on the Asterisk host or into a shared volume.
//
// ParseWAV and Normalize check and convert uploaded WAV files; uploads must
// be mono 16-bit PCM at 8000 or 16000 Hz and are stored at 8000 Hz.
//
// Package sounds imports gate and the standard library only. It must not
// import a store, an adapter (ari, agi) or the admin API.
package sounds
