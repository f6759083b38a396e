package e2e

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"time"
)

// WriteTone writes an 8 kHz mono 16-bit PCM WAV file with a sine tone of
// freq Hz (0 for silence) lasting d — the format Asterisk's format_wav
// plays.
func WriteTone(path string, d time.Duration, freq float64) error {
	const rate = 8000
	n := int(d.Seconds() * rate)
	data := make([]byte, 2*n)
	for i := range n {
		v := 0.0
		if freq > 0 {
			v = 0.3 * math.Sin(2*math.Pi*freq*float64(i)/rate)
		}
		binary.LittleEndian.PutUint16(data[2*i:], uint16(int16(v*math.MaxInt16)))
	}
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+len(data)))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)   // fmt chunk size
	binary.LittleEndian.PutUint16(h[20:], 1)    // PCM
	binary.LittleEndian.PutUint16(h[22:], 1)    // mono
	binary.LittleEndian.PutUint32(h[24:], rate) // sample rate
	binary.LittleEndian.PutUint32(h[28:], rate*2)
	binary.LittleEndian.PutUint16(h[32:], 2)  // block align
	binary.LittleEndian.PutUint16(h[34:], 16) // bits per sample
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(len(data)))
	return os.WriteFile(path, append(h, data...), 0o644)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
