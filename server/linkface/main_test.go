package linkface_test

import (
	"testing"

	"github.com/facekit/facekit/internal/libtest"
)

// TestMain runs every test of the package once per library backend
// (SQLite, then PostgreSQL): one suite, a matrix over backends.
func TestMain(m *testing.M) { libtest.Main(m) }
