package pattern

// EventBridge compares numbers exactly to six decimal places within
// -5,000,000,000 and +5,000,000,000 inclusive. steward keeps a number as an
// int64 count of millionths, which holds that range exactly.

const (
	microPerUnit = 1_000_000
	maxMicro     = 5_000_000_000 * microPerUnit
	minMicro     = -maxMicro
)

// Messages EventBridge gives when a number in a pattern cannot be compared.
const (
	msgNumberRange    = "Value must be between -5.0E9 and 5.0E9, inclusive"
	msgNumberDecimals = "Only values upto 6 decimals are supported"
)

// numberError says why a number is not comparable.
type numberError string

func (e numberError) Error() string { return string(e) }

// parseMicro converts the JSON number text s to millionths. It fails when
// the number has more than six significant decimals or is out of range.
func parseMicro(s string) (int64, error) {
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	// digits of the mantissa without the point, and the decimal exponent
	var digits [40]byte
	nd := 0
	exp := 0
	sawDigit := false
	dropped := false // nonzero digit beyond our buffer
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		sawDigit = true
		if nd == 0 && s[i] == '0' {
			continue
		}
		if nd < len(digits) {
			digits[nd] = s[i]
			nd++
		} else {
			exp++
			if s[i] != '0' {
				dropped = true
			}
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			sawDigit = true
			if nd == 0 && s[i] == '0' {
				exp--
				continue
			}
			if nd < len(digits) {
				digits[nd] = s[i]
				nd++
				exp--
			} else if s[i] != '0' {
				dropped = true
			}
		}
	}
	if !sawDigit {
		return 0, numberError("not a number")
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		e := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if e < 100000 {
				e = e*10 + int(s[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(s) {
		return 0, numberError("not a number")
	}
	// strip trailing zeros of the mantissa
	for nd > 0 && digits[nd-1] == '0' {
		nd--
		exp++
	}
	if nd == 0 {
		if dropped {
			return 0, numberError(msgNumberDecimals)
		}
		return 0, nil
	}
	if dropped {
		return 0, numberError(msgNumberDecimals)
	}
	scale := exp + 6 // value in millionths = mantissa * 10^scale
	if scale < 0 {
		return 0, numberError(msgNumberDecimals)
	}
	if nd+scale > 17 {
		return 0, numberError(msgNumberRange)
	}
	var v int64
	for k := 0; k < nd; k++ {
		v = v*10 + int64(digits[k]-'0')
	}
	for k := 0; k < scale; k++ {
		v *= 10
	}
	if v > maxMicro {
		return 0, numberError(msgNumberRange)
	}
	if neg {
		v = -v
	}
	return v, nil
}
