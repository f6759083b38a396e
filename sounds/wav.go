package sounds

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// FormatPCM is the WAVE format tag of integer PCM.
const FormatPCM = 1

// formatExtensible is the WAVE_FORMAT_EXTENSIBLE tag; its real format is
// the first two bytes of the sub-format GUID.
const formatExtensible = 0xFFFE

// formatFloat is the IEEE float format tag.
const formatFloat = 3

// WAVInfo describes the audio in a RIFF/WAVE file.
type WAVInfo struct {
	// SampleRate is in Hz.
	SampleRate int
	// Channels is 1 for mono, 2 for stereo.
	Channels int
	// BitsPerSample is the sample size (8, 16, 24, 32).
	BitsPerSample int
	// Format is the WAVE format tag: 1 = PCM, 3 = IEEE float, 6 = A-law,
	// 7 = µ-law. WAVE_FORMAT_EXTENSIBLE is resolved to its sub-format.
	Format int
	// DataLen is the length of the audio data in bytes.
	DataLen int
	// Duration is the playing time of the data.
	Duration time.Duration

	// dataOff is the offset of the audio data in the file.
	dataOff int
}

// errBadFormat is wrapped by Normalize's error for a WAV file in the wrong
// format.
var errBadFormat = errors.New("WAV must be mono 16-bit PCM at 8000 or 16000 Hz")

// errNoSamples is wrapped by Normalize's error for a WAV file whose data
// chunk holds no whole sample: Asterisk would play silence of no length.
var errNoSamples = errors.New("WAV must hold at least one sample; its data chunk is empty")

// ErrNotWAV is returned (wrapped) by ParseWAV for data that is not a
// RIFF/WAVE file or is damaged.
var ErrNotWAV = errors.New("not a valid WAV file")

// ParseWAV reads the header of a RIFF/WAVE file. It walks the chunks,
// skipping unknown ones (LIST, fact, bext, ...), and needs a "fmt " chunk
// before the "data" chunk. Every length is bounds-checked; a data chunk
// that claims more bytes than the file holds is an error, except for the
// 0 and 0xFFFFFFFF lengths streaming writers leave behind, which mean "to
// the end of the file". ParseWAV never panics.
func ParseWAV(data []byte) (WAVInfo, error) {
	var info WAVInfo
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return info, fmt.Errorf("sounds: parse wav: %w: no RIFF/WAVE header", ErrNotWAV)
	}
	haveFmt := false
	off := 12
	for {
		if len(data)-off < 8 {
			if !haveFmt {
				return info, fmt.Errorf("sounds: parse wav: %w: no fmt chunk", ErrNotWAV)
			}
			return info, fmt.Errorf("sounds: parse wav: %w: no data chunk", ErrNotWAV)
		}
		id := string(data[off : off+4])
		size := uint64(binary.LittleEndian.Uint32(data[off+4 : off+8]))
		body := off + 8
		rest := uint64(len(data) - body)
		switch id {
		case "fmt ":
			if size < 16 || size > rest {
				return info, fmt.Errorf("sounds: parse wav: %w: fmt chunk of %d bytes", ErrNotWAV, size)
			}
			f := data[body : body+int(size)]
			info.Format = int(binary.LittleEndian.Uint16(f[0:2]))
			info.Channels = int(binary.LittleEndian.Uint16(f[2:4]))
			info.SampleRate = int(binary.LittleEndian.Uint32(f[4:8]))
			info.BitsPerSample = int(binary.LittleEndian.Uint16(f[14:16]))
			if info.Format == formatExtensible && size >= 40 {
				// cbSize(2) validBits(2) channelMask(4) GUID(16): the GUID
				// starts with the real format tag.
				info.Format = int(binary.LittleEndian.Uint16(f[24:26]))
			}
			if info.Channels == 0 || info.SampleRate == 0 || info.BitsPerSample == 0 {
				return info, fmt.Errorf("sounds: parse wav: %w: fmt chunk has zero channels, rate or sample size", ErrNotWAV)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return info, fmt.Errorf("sounds: parse wav: %w: data chunk before fmt chunk", ErrNotWAV)
			}
			if size == 0 || size == 0xFFFFFFFF {
				size = rest
			}
			if size > rest {
				return info, fmt.Errorf("sounds: parse wav: %w: data chunk claims %d bytes, file has %d", ErrNotWAV, size, rest)
			}
			info.DataLen = int(size)
			info.dataOff = body
			frame := int64(info.Channels) * int64((info.BitsPerSample+7)/8)
			frames := int64(info.DataLen) / frame
			rate := int64(info.SampleRate)
			info.Duration = time.Duration(frames/rate)*time.Second + time.Duration(frames%rate*int64(time.Second)/rate)
			return info, nil
		}
		// Chunks are padded to an even length.
		next := uint64(body) + size + size&1
		if next > uint64(len(data)) {
			if !haveFmt {
				return info, fmt.Errorf("sounds: parse wav: %w: chunk %q runs past the end", ErrNotWAV, printable(id))
			}
			return info, fmt.Errorf("sounds: parse wav: %w: no data chunk", ErrNotWAV)
		}
		off = int(next)
	}
}

// printable replaces non-printable bytes of a chunk ID for error texts.
func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// Rates that Normalize accepts.
const (
	Rate8k  = 8000
	Rate16k = 16000
)

// Normalize returns data as an 8 kHz mono 16-bit PCM WAV, the format
// Asterisk plays without transcoding (".wav" = slin 8 kHz). It accepts
// mono 16-bit PCM at 8000 Hz (returned as a clean canonical file: only
// the fmt and data chunks) or 16000 Hz (low-pass filtered and decimated
// to every other sample, see decimate). Anything else, and a file without
// a single whole sample, is an error that says what was found and what is
// wanted.
func Normalize(data []byte) ([]byte, error) {
	info, err := ParseWAV(data)
	if err != nil {
		return nil, err
	}
	if err := checkUploadFormat(info); err != nil {
		return nil, err
	}
	pcm := data[info.dataOff : info.dataOff+info.DataLen]
	pcm = pcm[:len(pcm)&^1] // whole samples only
	if len(pcm) == 0 {
		return nil, fmt.Errorf("sounds: normalize wav: %w", errNoSamples)
	}
	if info.SampleRate == Rate16k {
		pcm = decimate(pcm)
	}
	return EncodeWAV(pcm, Rate8k), nil
}

// checkUploadFormat reports whether info is mono 16-bit PCM at 8 or 16 kHz.
func checkUploadFormat(info WAVInfo) error {
	var probs []string
	if info.Format != FormatPCM {
		probs = append(probs, formatName(info.Format))
	}
	if info.BitsPerSample != 16 {
		probs = append(probs, fmt.Sprintf("%d-bit", info.BitsPerSample))
	}
	if info.SampleRate != Rate8k && info.SampleRate != Rate16k {
		probs = append(probs, fmt.Sprintf("%d Hz", info.SampleRate))
	}
	if info.Channels != 1 {
		probs = append(probs, fmt.Sprintf("%d channels", info.Channels))
	}
	if len(probs) == 0 {
		return nil
	}
	got := ""
	for i, p := range probs {
		if i > 0 {
			got += ", "
		}
		got += p
	}
	return fmt.Errorf("sounds: normalize wav: %w; got %s", errBadFormat, got)
}

// formatName names a WAVE format tag for error texts.
func formatName(tag int) string {
	switch tag {
	case formatFloat:
		return "IEEE float samples"
	case 6:
		return "A-law samples"
	case 7:
		return "µ-law samples"
	case 2, 0x11:
		return "ADPCM samples"
	case 0x55:
		return "MP3 data"
	}
	return fmt.Sprintf("format tag %d (not PCM)", tag)
}

// decimate halves the rate of 16-bit little-endian mono samples. Output
// sample k is input sample 2k and its two neighbours weighted 1/4, 1/2,
// 1/4 (a short low-pass against aliasing above 4 kHz); the odd samples
// are dropped. At the edges the first and last sample stand in for the
// missing neighbour, and an odd last sample is kept.
func decimate(pcm []byte) []byte {
	n := len(pcm) / 2
	at := func(i int) int32 {
		if i < 0 {
			i = 0
		}
		if i >= n {
			i = n - 1
		}
		return int32(int16(binary.LittleEndian.Uint16(pcm[2*i:])))
	}
	out := make([]byte, 0, (n+1)/2*2)
	for i := 0; i < n; i += 2 {
		v := (at(i-1) + 2*at(i) + at(i+1)) / 4
		out = binary.LittleEndian.AppendUint16(out, uint16(int16(v)))
	}
	return out
}

// EncodeWAV wraps 16-bit little-endian mono samples in a canonical
// 44-byte-header WAV file at the given rate.
func EncodeWAV(pcm []byte, rate int) []byte {
	const bits, channels = 16, 1
	blockAlign := channels * bits / 8
	b := make([]byte, 0, 44+len(pcm)+1)
	b = append(b, "RIFF"...)
	riffLen := 36 + len(pcm) + len(pcm)&1
	b = binary.LittleEndian.AppendUint32(b, uint32(riffLen))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, FormatPCM)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*blockAlign))
	b = binary.LittleEndian.AppendUint16(b, uint16(blockAlign))
	b = binary.LittleEndian.AppendUint16(b, bits)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(pcm)))
	b = append(b, pcm...)
	if len(pcm)&1 == 1 {
		b = append(b, 0)
	}
	return b
}
