package registry

import (
	"fmt"
	"strings"
	"time"
)

// IDNumber is a parsed Chinese resident ID number (GB 11643-1999).
type IDNumber struct {
	// Number is the 18-character form with an upper-case check character;
	// legacy 15-digit numbers are converted to it.
	Number string
	// Province is the two-digit province-level region code (11 Beijing ...
	// 65 Xinjiang, 71 Taiwan, 81 Hong Kong, 82 Macao, 83 for residence
	// permits of Taiwan residents).
	Province int
	// Birth is the date of birth (midnight UTC).
	Birth time.Time
	// Legacy is true when the number was given in the 15-digit form.
	Legacy bool
}

// checkWeights are the GB 11643-1999 weights 2^(17-i) mod 11 for the first
// 17 digits; checkChars maps the weighted sum mod 11 to the check character.
var checkWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkChars = "10X98765432"

// chinaZone is where "today" is decided: a child born today in Beijing
// has a valid number even while it is still yesterday in UTC.
var chinaZone = time.FixedZone("CST", 8*3600)

// CheckDigit returns the check character for the first 17 digits of an ID
// number. first17 must be 17 ASCII digits.
func CheckDigit(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * checkWeights[i]
	}
	return checkChars[sum%11]
}

// NormalizeIDNumber validates s and returns its 18-character form (legacy
// 15-digit numbers converted, a lower-case x upper-cased, surrounding spaces
// removed). Returns ErrInvalidIDNumber wrapped with the reason.
func NormalizeIDNumber(s string) (string, error) {
	id, err := ParseIDNumber(s)
	if err != nil {
		return "", err
	}
	return id.Number, nil
}

// ParseIDNumber validates s as a resident ID number: 18 characters (17
// digits and a check digit or X) with a correct GB 11643 check digit, or a
// legacy 15-digit number (all digits, birth date YYMMDD in the 1900s, no
// check digit); in both a valid province code and a valid birth date that is
// not in the future and not before 1900. Returns ErrInvalidIDNumber wrapped
// with the reason.
func ParseIDNumber(s string) (IDNumber, error) {
	return parseIDNumber(s, time.Now())
}

func parseIDNumber(s string, now time.Time) (IDNumber, error) {
	s = strings.TrimSpace(s)
	var id IDNumber
	switch len(s) {
	case 18:
		if !allDigits(s[:17]) {
			return id, fmt.Errorf("%w: the first 17 characters must be digits", ErrInvalidIDNumber)
		}
		last := s[17]
		if last == 'x' {
			last = 'X'
		}
		if !(last >= '0' && last <= '9' || last == 'X') {
			return id, fmt.Errorf("%w: the check character must be a digit or X", ErrInvalidIDNumber)
		}
		id.Number = s[:17] + string(last)
	case 15:
		if !allDigits(s) {
			return id, fmt.Errorf("%w: a 15-character number must be all digits", ErrInvalidIDNumber)
		}
		// The 18-digit form inserts the century and appends a check digit.
		first17 := s[:6] + "19" + s[6:]
		id.Number = first17 + string(CheckDigit(first17))
		id.Legacy = true
	default:
		return id, fmt.Errorf("%w: length %d, want 18 (or 15 for legacy numbers)", ErrInvalidIDNumber, len(s))
	}

	id.Province = int(id.Number[0]-'0')*10 + int(id.Number[1]-'0')
	if !validProvince(id.Province) {
		return id, fmt.Errorf("%w: %02d is not a province code", ErrInvalidIDNumber, id.Province)
	}

	birth, err := parseBirth(id.Number[6:14], now)
	if err != nil {
		return id, err
	}
	id.Birth = birth

	// The check digit is tested last so that a typo in the date or region
	// is reported as such rather than as a checksum failure. Legacy numbers
	// have none to test.
	if !id.Legacy {
		if want := CheckDigit(id.Number[:17]); id.Number[17] != want {
			return id, fmt.Errorf("%w: check digit is %c, want %c", ErrInvalidIDNumber, id.Number[17], want)
		}
	}
	return id, nil
}

func parseBirth(yyyymmdd string, now time.Time) (time.Time, error) {
	y := atoi(yyyymmdd[:4])
	m := atoi(yyyymmdd[4:6])
	d := atoi(yyyymmdd[6:8])
	if y < 1900 {
		return time.Time{}, fmt.Errorf("%w: birth year %d before 1900", ErrInvalidIDNumber, y)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	// time.Date normalises 0231 to 0303; a round trip catches impossible dates.
	if m < 1 || m > 12 || t.Day() != d || int(t.Month()) != m {
		return time.Time{}, fmt.Errorf("%w: birth date %s does not exist", ErrInvalidIDNumber, yyyymmdd)
	}
	ny, nm, nd := now.In(chinaZone).Date()
	if t.After(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)) {
		return time.Time{}, fmt.Errorf("%w: birth date %s is in the future", ErrInvalidIDNumber, yyyymmdd)
	}
	return t, nil
}

// validProvince reports whether p is a province-level code of GB/T 2260
// (plus 71 Taiwan, 81 Hong Kong, 82 Macao and 83, used by residence permits
// for Taiwan residents).
func validProvince(p int) bool {
	switch {
	case p >= 11 && p <= 15, p >= 21 && p <= 23, p >= 31 && p <= 37,
		p >= 41 && p <= 46, p >= 50 && p <= 54, p >= 61 && p <= 65:
		return true
	case p == 71, p == 81, p == 82, p == 83:
		return true
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi parses a string already known to be all digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
