package admin_test

import (
	"encoding/binary"
	"math"
)

// wav builds a PCM WAV file with n frames of a 440 Hz tone.
func wav(rate, channels, bits, n int) []byte {
	bytesPer := bits / 8
	data := make([]byte, 0, n*channels*bytesPer)
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		for range channels {
			switch bits {
			case 16:
				data = binary.LittleEndian.AppendUint16(data, uint16(v))
			case 8:
				data = append(data, byte(v>>8)+128)
			}
		}
	}
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(36+len(data)))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*bytesPer))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*bytesPer))
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}
