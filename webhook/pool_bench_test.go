package webhook

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The pooled pieces of a call, each next to the plain form: what the pool
// saves per call (see BENCHMARKS.md).

// pieceAnswer is the answer of BenchmarkAuthorizeOwnWork.
var pieceAnswer = `{askForPin:{expectedPIN:"1234",forwardCorrectPIN:"100",maxRetries:3}}`

func pieceResponse() *http.Response {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(pieceAnswer)), ContentLength: int64(len(pieceAnswer))}
}

func BenchmarkReadBodyPooled(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		buf := getBody()
		data, err := readBody(buf, pieceResponse())
		if err != nil || len(data) == 0 {
			b.Fatal(err)
		}
		putBody(buf)
	}
}

// BenchmarkReadBodyReadAll reads the answer as io.ReadAll would, without
// clearing the buffers it outgrows.
func BenchmarkReadBodyReadAll(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		resp := pieceResponse()
		data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
		resp.Body.Close()
		if err != nil || len(data) == 0 {
			b.Fatal(err)
		}
		clear(data)
	}
}

var pieceKey = []byte("bench-secret-0123456789abcdef")

func BenchmarkSignPooled(b *testing.B) {
	var s signer
	b.ReportAllocs()
	for b.Loop() {
		s.sign(pieceKey, 1795766400, "GET", "https://hooks.example.com/check?caller=%2B4917612345678&called=%2B4930123456", nil)
	}
}

// BenchmarkSignFresh keys a new HMAC state per call, as Sign does.
func BenchmarkSignFresh(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Sign(pieceKey, 1795766400, "GET", "https://hooks.example.com/check?caller=%2B4917612345678&called=%2B4930123456", nil)
	}
}
