package index

import (
	"bytes"
	"encoding/hex"
)

// tokenColumn holds the face token of each row of a group. The tokens
// facekit generates are 32 lowercase hex digits (16 bytes of a hash or of
// crypto/rand); those are kept as their 16 bytes, a third of a Go string's
// 48 (header plus heap copy) and one pointer-free array the GC never scans.
// Any other token (a client-chosen one, tests' "t1") is kept as a string in
// a side map.
type tokenColumn struct {
	packed [][16]byte
	other  map[int32]string // row -> token for tokens that are not packed
}

// packToken returns the bytes of a 32-digit lowercase hex token. Upper case
// is refused: unpacking must give back the very string that was stored.
func packToken(s string) (b [16]byte, ok bool) {
	if len(s) != 32 {
		return b, false
	}
	for i := 0; i < 32; i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return b, false
		}
	}
	hex.Decode(b[:], []byte(s)) // cannot fail: checked above
	return b, true
}

func (c *tokenColumn) grow(n int) {
	c.packed = make([][16]byte, 0, n)
}

func (c *tokenColumn) append(token string) {
	b, ok := packToken(token)
	if !ok {
		if c.other == nil {
			c.other = make(map[int32]string)
		}
		c.other[int32(len(c.packed))] = token
	}
	c.packed = append(c.packed, b)
}

// get returns the token of row r.
func (c *tokenColumn) get(r int32) string {
	if s, ok := c.other[r]; ok {
		return s
	}
	return hex.EncodeToString(c.packed[r][:])
}

// is reports whether row r holds token.
func (c *tokenColumn) is(r int32, token string) bool {
	if s, ok := c.other[r]; ok {
		return s == token
	}
	b, ok := packToken(token)
	return ok && b == c.packed[r]
}

// less reports whether the token of row a sorts before that of row b (as
// strings). Lowercase hex digits sort like the nibbles they encode, so two
// packed tokens compare by their bytes.
func (c *tokenColumn) less(a, b int32) bool {
	if c.other == nil {
		return bytes.Compare(c.packed[a][:], c.packed[b][:]) < 0
	}
	_, oa := c.other[a]
	_, ob := c.other[b]
	if !oa && !ob {
		return bytes.Compare(c.packed[a][:], c.packed[b][:]) < 0
	}
	return c.get(a) < c.get(b)
}

// move puts the token of row last into row r (r may equal last) and drops
// row last, mirroring group.removeRow.
func (c *tokenColumn) move(r, last int32) {
	if r != last {
		c.packed[r] = c.packed[last]
		if s, ok := c.other[last]; ok {
			c.other[r] = s
		} else {
			delete(c.other, r)
		}
	}
	delete(c.other, last)
	c.packed = c.packed[:last]
}
