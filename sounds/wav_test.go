package sounds_test

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/sounds"
)

// wavSpec describes a WAV file to build for a test.
type wavSpec struct {
	format, channels, rate, bits int
	samples                      int     // frames of audio
	before                       []chunk // chunks before "fmt "
	between                      []chunk // chunks between "fmt " and "data"
	dataLen                      *uint32 // overrides the data chunk length
	fmtExtra                     []byte  // appended to the 16-byte fmt body
}

type chunk struct {
	id   string
	body []byte
}

func u32(v uint32) *uint32 { return &v }

func appendChunk(b []byte, c chunk) []byte {
	b = append(b, c.id...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(c.body)))
	b = append(b, c.body...)
	if len(c.body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// build writes the WAV file that s describes; the audio is a ramp.
func (s wavSpec) build() []byte {
	bytesPer := (s.bits + 7) / 8
	data := make([]byte, s.samples*s.channels*bytesPer)
	for i := range data {
		data[i] = byte(i * 7)
	}
	fmtBody := binary.LittleEndian.AppendUint16(nil, uint16(s.format))
	fmtBody = binary.LittleEndian.AppendUint16(fmtBody, uint16(s.channels))
	fmtBody = binary.LittleEndian.AppendUint32(fmtBody, uint32(s.rate))
	fmtBody = binary.LittleEndian.AppendUint32(fmtBody, uint32(s.rate*s.channels*bytesPer))
	fmtBody = binary.LittleEndian.AppendUint16(fmtBody, uint16(s.channels*bytesPer))
	fmtBody = binary.LittleEndian.AppendUint16(fmtBody, uint16(s.bits))
	fmtBody = append(fmtBody, s.fmtExtra...)

	var body []byte
	body = append(body, "WAVE"...)
	for _, c := range s.before {
		body = appendChunk(body, c)
	}
	body = appendChunk(body, chunk{"fmt ", fmtBody})
	for _, c := range s.between {
		body = appendChunk(body, c)
	}
	body = append(body, "data"...)
	n := uint32(len(data))
	if s.dataLen != nil {
		n = *s.dataLen
	}
	body = binary.LittleEndian.AppendUint32(body, n)
	body = append(body, data...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

func pcm16(rate, samples int) wavSpec {
	return wavSpec{format: 1, channels: 1, rate: rate, bits: 16, samples: samples}
}

func TestParseWAV(t *testing.T) {
	list := chunk{"LIST", []byte("INFOISFT\x05\x00\x00\x00Lavf\x00")} // odd length: padded
	extensible := wavSpec{format: 0xFFFE, channels: 1, rate: 8000, bits: 16, samples: 800,
		fmtExtra: append([]byte{22, 0, 16, 0, 4, 0, 0, 0, 1, 0}, make([]byte, 14)...)}
	tests := []struct {
		name    string
		data    []byte
		want    sounds.WAVInfo
		wantErr string
	}{
		{name: "8k mono pcm", data: pcm16(8000, 8000).build(),
			want: sounds.WAVInfo{SampleRate: 8000, Channels: 1, BitsPerSample: 16, Format: 1, DataLen: 16000, Duration: time.Second}},
		{name: "LIST before fmt and fact between", data: wavSpec{format: 1, channels: 1, rate: 16000, bits: 16, samples: 4000,
			before: []chunk{list}, between: []chunk{{"fact", []byte{1, 2, 3, 4}}}}.build(),
			want: sounds.WAVInfo{SampleRate: 16000, Channels: 1, BitsPerSample: 16, Format: 1, DataLen: 8000, Duration: 250 * time.Millisecond}},
		{name: "stereo 44.1k", data: wavSpec{format: 1, channels: 2, rate: 44100, bits: 16, samples: 44100}.build(),
			want: sounds.WAVInfo{SampleRate: 44100, Channels: 2, BitsPerSample: 16, Format: 1, DataLen: 176400, Duration: time.Second}},
		{name: "extensible resolves to PCM", data: extensible.build(),
			want: sounds.WAVInfo{SampleRate: 8000, Channels: 1, BitsPerSample: 16, Format: 1, DataLen: 1600, Duration: 100 * time.Millisecond}},
		{name: "streaming length 0xFFFFFFFF", data: wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, samples: 400, dataLen: u32(0xFFFFFFFF)}.build(),
			want: sounds.WAVInfo{SampleRate: 8000, Channels: 1, BitsPerSample: 16, Format: 1, DataLen: 800, Duration: 50 * time.Millisecond}},
		{name: "empty", data: nil, wantErr: "no RIFF/WAVE header"},
		{name: "not riff", data: []byte("RIFX\x00\x00\x00\x00WAVEfmt "), wantErr: "no RIFF/WAVE header"},
		{name: "header only", data: []byte("RIFF\x04\x00\x00\x00WAVE"), wantErr: "no fmt chunk"},
		{name: "data claims too much", data: wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, samples: 10, dataLen: u32(1000)}.build(),
			wantErr: "data chunk claims 1000 bytes"},
		{name: "data before fmt", data: append([]byte("RIFF\x10\x00\x00\x00WAVEdata\x02\x00\x00\x00"), 0, 0), wantErr: "data chunk before fmt"},
		{name: "fmt too short", data: []byte("RIFF\x10\x00\x00\x00WAVEfmt \x04\x00\x00\x00\x01\x00\x01\x00"), wantErr: "fmt chunk of 4 bytes"},
		{name: "unknown chunk runs past end", data: []byte("RIFF\x10\x00\x00\x00WAVELIST\xff\xff\x00\x00ab"), wantErr: "runs past the end"},
		{name: "zero rate", data: wavSpec{format: 1, channels: 1, rate: 0, bits: 16, samples: 10}.build(), wantErr: "zero channels, rate or sample size"},
		{name: "fmt but no data", data: pcm16(8000, 0).build()[:36], wantErr: "no data chunk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sounds.ParseWAV(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, sounds.ErrNotWAV) {
					t.Fatalf("ParseWAV error = %v, want ErrNotWAV containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWAV: %v", err)
			}
			if got.SampleRate != tt.want.SampleRate || got.Channels != tt.want.Channels || got.BitsPerSample != tt.want.BitsPerSample ||
				got.Format != tt.want.Format || got.DataLen != tt.want.DataLen || got.Duration != tt.want.Duration {
				t.Errorf("ParseWAV = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// sine returns n 16-bit samples of a sine of freq Hz at rate, amplitude amp.
func sine(freq float64, rate, n int, amp float64) []byte {
	b := make([]byte, 0, 2*n)
	for i := range n {
		v := amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
		b = binary.LittleEndian.AppendUint16(b, uint16(int16(v)))
	}
	return b
}

// rms returns the root mean square of 16-bit samples.
func rms(pcm []byte) float64 {
	var sum float64
	n := len(pcm) / 2
	for i := range n {
		v := float64(int16(binary.LittleEndian.Uint16(pcm[2*i:])))
		sum += v * v
	}
	return math.Sqrt(sum / float64(n))
}

func TestNormalize(t *testing.T) {
	ramp8k := pcm16(8000, 4000)
	listed := pcm16(8000, 4000)
	listed.before = []chunk{{"LIST", []byte("INFOjunk")}}
	tests := []struct {
		name    string
		in      []byte
		wantLen int // data bytes of the result
		wantErr string
	}{
		{name: "8k stays 8k", in: ramp8k.build(), wantLen: 8000},
		{name: "8k with LIST chunk is cleaned", in: listed.build(), wantLen: 8000},
		{name: "16k halves", in: pcm16(16000, 16000).build(), wantLen: 16000},
		{name: "16k odd sample count", in: pcm16(16000, 16001).build(), wantLen: 16002},
		{name: "44.1k stereo", in: wavSpec{format: 1, channels: 2, rate: 44100, bits: 16, samples: 100}.build(),
			wantErr: "WAV must be mono 16-bit PCM at 8000 or 16000 Hz; got 44100 Hz, 2 channels"},
		{name: "8-bit", in: wavSpec{format: 1, channels: 1, rate: 8000, bits: 8, samples: 100}.build(),
			wantErr: "WAV must be mono 16-bit PCM at 8000 or 16000 Hz; got 8-bit"},
		{name: "float", in: wavSpec{format: 3, channels: 1, rate: 16000, bits: 32, samples: 100}.build(),
			wantErr: "WAV must be mono 16-bit PCM at 8000 or 16000 Hz; got IEEE float samples, 32-bit"},
		{name: "mu-law", in: wavSpec{format: 7, channels: 1, rate: 8000, bits: 8, samples: 100}.build(),
			wantErr: "got µ-law samples, 8-bit"},
		{name: "not a wav", in: []byte("ID3\x03mp3 data here"), wantErr: "not a valid WAV file"},
		{name: "no samples", in: pcm16(8000, 0).build(), wantErr: "WAV must hold at least one sample"},
		{name: "16k without samples", in: pcm16(16000, 0).build(), wantErr: "WAV must hold at least one sample"},
		{name: "half a sample", in: func() []byte {
			b := wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, samples: 1, dataLen: u32(0)}.build()
			return b[:len(b)-1] // a data chunk "to the end of the file" of one byte
		}(), wantErr: "WAV must hold at least one sample"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sounds.Normalize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Normalize error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			info, err := sounds.ParseWAV(out)
			if err != nil {
				t.Fatalf("ParseWAV(Normalize()): %v", err)
			}
			if info.SampleRate != 8000 || info.Channels != 1 || info.BitsPerSample != 16 || info.Format != sounds.FormatPCM {
				t.Errorf("result format = %+v, want 8000 Hz mono 16-bit PCM", info)
			}
			if info.DataLen != tt.wantLen {
				t.Errorf("result data = %d bytes, want %d", info.DataLen, tt.wantLen)
			}
			if len(out) != 44+info.DataLen {
				t.Errorf("result is %d bytes, want a canonical 44-byte header + %d", len(out), info.DataLen)
			}
		})
	}
}

// TestNormalizeLowPass checks that 16k→8k keeps speech-band tones and
// damps tones above the new Nyquist frequency instead of folding them
// down at full strength.
func TestNormalizeLowPass(t *testing.T) {
	const amp = 10000.0
	tests := []struct {
		name         string
		freq         float64
		minGain, max float64
	}{
		{"1 kHz passes", 1000, 0.9, 1.01},
		{"500 Hz passes", 500, 0.95, 1.01},
		{"7 kHz is damped", 7000, 0, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sounds.EncodeWAV(sine(tt.freq, 16000, 16000, amp), 16000)
			out, err := sounds.Normalize(in)
			if err != nil {
				t.Fatal(err)
			}
			gain := rms(out[44:]) / rms(in[44:])
			if gain < tt.minGain || gain > tt.max {
				t.Errorf("gain at %g Hz = %.3f, want %.2f..%.2f", tt.freq, gain, tt.minGain, tt.max)
			}
		})
	}
}

func FuzzParseWAV(f *testing.F) {
	f.Add(pcm16(8000, 10).build())
	f.Add(wavSpec{format: 1, channels: 1, rate: 16000, bits: 16, samples: 3, before: []chunk{{"LIST", []byte("INFO")}}}.build())
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := sounds.ParseWAV(data)
		if err != nil {
			return
		}
		if info.DataLen < 0 || info.DataLen > len(data) || info.Channels <= 0 || info.SampleRate <= 0 || info.Duration < 0 {
			t.Fatalf("ParseWAV accepted an impossible header: %+v (len %d)", info, len(data))
		}
		out, err := sounds.Normalize(data)
		if err != nil {
			return
		}
		if _, err := sounds.ParseWAV(out); err != nil {
			t.Fatalf("Normalize produced an unreadable WAV: %v", err)
		}
	})
}
