package registry

import (
	"context"
	"errors"
	"testing"
	"time"
)

// today is fixed so that "not in the future" is tested deterministically.
var today = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestParseIDNumber(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     string // normalised number; "" when invalid
		province int
		birth    string
		legacy   bool
	}{
		{name: "Valid/Textbook", in: "11010519491231002X", want: "11010519491231002X", province: 11, birth: "1949-12-31"},
		{name: "Valid/LowerX", in: "11010519491231002x", want: "11010519491231002X", province: 11, birth: "1949-12-31"},
		{name: "Valid/Spaces", in: " 440304199001011233\t", want: "440304199001011233", province: 44, birth: "1990-01-01"},
		{name: "Valid/LeapDay", in: "65010219800229001X", want: "65010219800229001X", province: 65, birth: "1980-02-29"},
		{name: "Valid/Year1900", in: "11010519000101001X", want: "11010519000101001X", province: 11, birth: "1900-01-01"},
		{name: "Valid/Digit", in: "320106198503152714", want: "320106198503152714", province: 32, birth: "1985-03-15"},
		{name: "Valid/HongKong", in: withCheck("81000019900101123"), want: withCheck("81000019900101123"), province: 81, birth: "1990-01-01"},
		{name: "Valid/TaiwanPermit", in: withCheck("83000019900101123"), want: withCheck("83000019900101123"), province: 83, birth: "1990-01-01"},
		{name: "Valid/BornToday", in: withCheck("11010520261125001"), want: withCheck("11010520261125001"), province: 11, birth: "2026-11-25"},
		{name: "Valid/Legacy15", in: "110105491231002", want: "11010519491231002X", province: 11, birth: "1949-12-31", legacy: true},
		{name: "Valid/Legacy15Digit", in: "440304900101123", want: "440304199001011233", province: 44, birth: "1990-01-01", legacy: true},

		{name: "Invalid/Empty", in: ""},
		{name: "Invalid/Short", in: "11010519491231002"},
		{name: "Invalid/Long", in: "11010519491231002X1"},
		{name: "Invalid/Length16", in: "1101051949123100"},
		{name: "Invalid/CheckDigit", in: "110105194912310021"},
		{name: "Invalid/TencentDocExample", in: "110110199909090909"},
		{name: "Invalid/LetterInBody", in: "11010519491231O02X"},
		{name: "Invalid/XInBody", in: "1101051949123100X2"},
		{name: "Invalid/WrongCheckChar", in: "11010519491231002Y"},
		{name: "Invalid/FullWidthDigits", in: "１１０１０５１９４９１２３１００２Ｘ"},
		{name: "Invalid/Province00", in: withCheck("00010519491231002")},
		{name: "Invalid/Province16", in: withCheck("16010519491231002")},
		{name: "Invalid/Province72", in: withCheck("72010519491231002")},
		{name: "Invalid/Province91Foreigner", in: withCheck("91010519491231002")},
		{name: "Invalid/Feb29NonLeap", in: withCheck("11010519810229002")},
		{name: "Invalid/Month13", in: withCheck("11010519811301002")},
		{name: "Invalid/Day00", in: withCheck("11010519810100002")},
		{name: "Invalid/Day32", in: withCheck("11010519810132002")},
		{name: "Invalid/Before1900", in: withCheck("11010518991231002")},
		{name: "Invalid/Future", in: withCheck("11010520261126001")},
		{name: "Invalid/Legacy15Letter", in: "11010549123100X"},
		{name: "Invalid/Legacy15BadDate", in: "110105490231002"},
		{name: "Invalid/Legacy15Province", in: "990105491231002"},
		{name: "Invalid/Unicode", in: "张三李四王五赵六"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := parseIDNumber(tt.in, today)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidIDNumber) {
					t.Fatalf("parseIDNumber(%q) = %+v, %v; want ErrInvalidIDNumber", tt.in, id, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseIDNumber(%q): %v", tt.in, err)
			}
			if id.Number != tt.want || id.Province != tt.province || id.Legacy != tt.legacy ||
				id.Birth.Format("2006-01-02") != tt.birth {
				t.Errorf("parseIDNumber(%q) = %+v; want number %s province %d birth %s legacy %v",
					tt.in, id, tt.want, tt.province, tt.birth, tt.legacy)
			}
		})
	}
}

func TestCheckDigitEveryRemainder(t *testing.T) {
	// Every check character must be reachable and round-trip through the
	// validator; vary the sequence digits until all 11 remainders appear.
	seen := map[byte]bool{}
	for seq := 0; seq < 1000 && len(seen) < 11; seq++ {
		first17 := "11010519491231" + threeDigits(seq)
		c := CheckDigit(first17)
		seen[c] = true
		if _, err := parseIDNumber(first17+string(c), today); err != nil {
			t.Fatalf("%s%c rejected: %v", first17, c, err)
		}
	}
	if len(seen) != 11 {
		t.Fatalf("only %d of 11 check characters produced", len(seen))
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" when invalid
	}{
		{name: "Valid/TwoChars", in: "张三", want: "张三"},
		{name: "Valid/ThreeChars", in: "王小明", want: "王小明"},
		{name: "Valid/CompoundSurname", in: "欧阳娜娜", want: "欧阳娜娜"},
		{name: "Valid/Traditional", in: "陳大文", want: "陳大文"},
		{name: "Valid/MiddleDot", in: "买买提·艾力", want: "买买提·艾力"},
		{name: "Valid/KatakanaDot", in: "买买提・艾力", want: "买买提·艾力"},
		{name: "Valid/HalfwidthKatakanaDot", in: "买买提･艾力", want: "买买提·艾力"},
		{name: "Valid/HyphenationPoint", in: "买买提‧艾力", want: "买买提·艾力"},
		{name: "Valid/TwoDots", in: "阿卜杜·热合曼·买买提", want: "阿卜杜·热合曼·买买提"},
		{name: "Valid/ExtensionA", in: "王㐀", want: "王㐀"},
		{name: "Valid/ExtensionB", in: "李𠀀", want: "李𠀀"},
		{name: "Valid/TrimSpaces", in: " 张三\u3000", want: "张三"},
		{name: "Valid/Max30", in: repeat("阿", 30), want: repeat("阿", 30)},

		{name: "Invalid/Empty", in: ""},
		{name: "Invalid/OneChar", in: "张"},
		{name: "Invalid/TooLong", in: repeat("阿", 31)},
		{name: "Invalid/BadUTF8", in: "张\xff三"},
		{name: "Invalid/GBKBytes", in: "\xd5\xc5\xc8\xfd"},
		{name: "Invalid/Latin", in: "John Smith"},
		{name: "Invalid/MixedLatin", in: "张San"},
		{name: "Invalid/InnerSpace", in: "张 三"},
		{name: "Invalid/Digit", in: "张3"},
		{name: "Invalid/LeadingDot", in: "·艾力"},
		{name: "Invalid/TrailingDot", in: "艾力·"},
		{name: "Invalid/DoubleDot", in: "买买提··艾力"},
		{name: "Invalid/MixedDoubleDot", in: "买买提·・艾力"},
		{name: "Invalid/Bullet", in: "买买提•艾力"},
		{name: "Invalid/DotOperator", in: "买买提⋅艾力"},
		{name: "Invalid/OnlyDot", in: "··"},
		{name: "Invalid/Radical", in: "张⺀"},
		{name: "Invalid/IdeographicPunct", in: "张三。"},
		{name: "Invalid/Hangul", in: "김민지"},
		{name: "Invalid/Kana", in: "たなか"},
		{name: "Invalid/Emoji", in: "张😀"},
		{name: "Invalid/ControlChar", in: "张\u0000三"},
		{name: "Invalid/ZeroWidth", in: "张\u200b三"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeName(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidName) {
					t.Fatalf("NormalizeName(%q) = %q, %v; want ErrInvalidName", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestValidateOrder(t *testing.T) {
	// Both wrong: the ID number is reported, as the vendor APIs do.
	if _, _, err := Validate("123", "x"); !errors.Is(err, ErrInvalidIDNumber) {
		t.Fatalf("Validate(bad, bad) = %v; want ErrInvalidIDNumber", err)
	}
	if _, _, err := Validate("11010519491231002X", "x"); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("Validate(good, bad) = %v; want ErrInvalidName", err)
	}
	id, name, err := Validate("110105491231002", "张・三")
	if err != nil || id != "11010519491231002X" || name != "张·三" {
		t.Fatalf("Validate = %q, %q, %v", id, name, err)
	}
}

// countingSource records whether it was asked at all.
type countingSource struct{ calls int }

func (c *countingSource) Lookup(ctx context.Context, id, name string) (Photo, error) {
	c.calls++
	return Photo{IDNumber: id, Name: name}, nil
}

func TestValidating(t *testing.T) {
	tests := []struct {
		name    string
		id, nm  string
		wantErr error
	}{
		{name: "InvalidIDNumber", id: "11010519491231002", nm: "张三", wantErr: ErrInvalidIDNumber},
		{name: "InvalidName", id: "11010519491231002X", nm: "Z", wantErr: ErrInvalidName},
		{name: "Normalised", id: "110105491231002", nm: "张三"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &countingSource{}
			p, err := Validating(inner).Lookup(context.Background(), tt.id, tt.nm)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || inner.calls != 0 {
					t.Fatalf("err %v calls %d; want %v and no call", err, inner.calls, tt.wantErr)
				}
				return
			}
			if err != nil || inner.calls != 1 || p.IDNumber != "11010519491231002X" {
				t.Fatalf("Lookup = %+v, %v (calls %d)", p, err, inner.calls)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	if err := Check("买买提・艾力", "买买提·艾力"); err != nil {
		t.Errorf("dot variants: %v", err)
	}
	if err := Check("张三", "李四"); !errors.Is(err, ErrNameMismatch) {
		t.Errorf("different names: %v", err)
	}
	if err := Check("garbage!", "张三"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("malformed registered name: %v", err)
	}
}

func withCheck(first17 string) string { return first17 + string(CheckDigit(first17)) }

func threeDigits(n int) string {
	return string([]byte{byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}
