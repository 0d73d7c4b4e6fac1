package tfgraph

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestDecodeManifest decodes a crafted two-shard manifest with a uint8
// quantised weight (value = q·scale + min), a float32 weight and an int32
// weight, and checks each value computed by hand.
func TestDecodeManifest(t *testing.T) {
	manifest := []byte(`[{"paths":["a.bin","b.bin"],"weights":[
		{"name":"q","shape":[3],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1}},
		{"name":"f","shape":[1,2],"dtype":"float32"},
		{"name":"i","shape":[],"dtype":"int32"}]}]`)
	f := binary.LittleEndian.AppendUint32(nil, math.Float32bits(1.25))
	f = binary.LittleEndian.AppendUint32(f, math.Float32bits(-3))
	f = binary.LittleEndian.AppendUint32(f, uint32(7))
	shards := map[string][]byte{"a.bin": {0, 2, 255, f[0]}, "b.bin": f[1:]}
	got, err := DecodeManifest(manifest, func(p string) ([]byte, error) { return shards[p], nil })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{"q": {-1, 0, 126.5}, "f": {1.25, -3}, "i": {7}}
	for name, w := range want {
		g := got[name]
		if g == nil || len(g.Data) != len(w) {
			t.Fatalf("%s: %v, want %v", name, g, w)
		}
		for k := range w {
			if g.Data[k] != w[k] {
				t.Errorf("%s[%d] = %v, want %v", name, k, g.Data[k], w[k])
			}
		}
	}
	if _, err := DecodeManifest([]byte(`{"not":"a list"}`), nil); err == nil {
		t.Error("a malformed manifest decoded")
	}
}
