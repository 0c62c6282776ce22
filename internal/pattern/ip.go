package pattern

import (
	"net/netip"
	"strconv"
	"strings"
)

// ipKey is an IP address as a 128-bit number; IPv4 addresses keep their own
// family so 10.0.0.1 never equals ::a00:1.
type ipKey struct {
	v4     bool
	hi, lo uint64
}

func (k ipKey) less(o ipKey) bool {
	if k.v4 != o.v4 {
		return k.v4 // IPv4 sorts before IPv6
	}
	if k.hi != o.hi {
		return k.hi < o.hi
	}
	return k.lo < o.lo
}

// looksLikeIP applies EventBridge's test for "this string is meant as an IP
// address": four dotted decimal groups, or hex digits and colons with at
// least one colon.
func looksLikeIP(s string) (v4, v6 bool) {
	if s == "" {
		return false, false
	}
	dots, digits := 0, 0
	v4ok := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			if digits == 0 {
				v4ok = false
			}
			digits = 0
			dots++
		default:
			v4ok = false
		}
	}
	if v4ok && dots == 3 && digits > 0 {
		return true, false
	}
	colon := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			colon = true
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false, false
		}
	}
	return false, colon
}

// parseIP parses s when it looks like an IP address.
func parseIP(s string) (ipKey, bool) {
	v4, v6 := looksLikeIP(s)
	switch {
	case v4:
		// looksLikeIP guarantees four non-empty groups of digits
		var a, n uint64
		for i := 0; i <= len(s); i++ {
			if i == len(s) || s[i] == '.' {
				a = a<<8 | n
				n = 0
				continue
			}
			n = n*10 + uint64(s[i]-'0')
			if n > 255 {
				return ipKey{}, false
			}
		}
		return ipKey{v4: true, lo: a}, true
	case v6:
		addr, err := netip.ParseAddr(s)
		if err != nil || !addr.Is6() {
			return ipKey{}, false
		}
		if addr.Is4In6() { // as EventBridge does, ::ffff:a.b.c.d is IPv4
			v := addr.Unmap().As4()
			return ipKey{v4: true, lo: uint64(v[0])<<24 | uint64(v[1])<<16 | uint64(v[2])<<8 | uint64(v[3])}, true
		}
		b := addr.As16()
		var k ipKey
		for i := 0; i < 8; i++ {
			k.hi = k.hi<<8 | uint64(b[i])
			k.lo = k.lo<<8 | uint64(b[i+8])
		}
		return k, true
	}
	return ipKey{}, false
}

// ipRange is an inclusive range of addresses of one family.
type ipRange struct {
	lo, hi ipKey
}

func (r ipRange) contains(k ipKey) bool {
	return k.v4 == r.lo.v4 && !k.less(r.lo) && !r.hi.less(k)
}

// parseCIDR parses a cidr pattern with EventBridge's rules and messages.
// As in EventBridge, the range runs from the address as written (host bits
// are not cleared) to that address with all host bits set.
func parseCIDR(s string) (ipRange, string) {
	parts := strings.Split(s, "/")
	for len(parts) > 0 && parts[len(parts)-1] == "" { // Java's split drops trailing empties
		parts = parts[:len(parts)-1]
	}
	if len(parts) != 2 {
		return ipRange{}, "Malformed CIDR, one '/' required"
	}
	bits, err := strconv.ParseInt(parts[1], 10, 32)
	if err != nil {
		return ipRange{}, "Malformed CIDR, mask bits must be an integer"
	}
	if bits < 0 {
		return ipRange{}, "Malformed CIDR, mask bits must not be negative"
	}
	v4, v6 := looksLikeIP(parts[0])
	if !v4 && !v6 {
		return ipRange{}, "Nonstandard IP address: " + parts[0]
	}
	base, ok := parseIP(parts[0])
	if !ok {
		return ipRange{}, "Invalid IP address: " + parts[0]
	}
	r := ipRange{lo: base, hi: base}
	if base.v4 {
		if bits > 31 {
			return ipRange{}, "IPv4 mask bits must be < 32"
		}
		host := 32 - uint(bits)
		r.hi.lo |= (uint64(1) << host) - 1
		return r, ""
	}
	if bits > 127 {
		return ipRange{}, "IPv6 mask bits must be < 128"
	}
	host := 128 - uint(bits)
	if host >= 64 {
		r.hi.lo = ^uint64(0)
		if host == 128 {
			r.hi.hi = ^uint64(0)
		} else {
			r.hi.hi |= (uint64(1) << (host - 64)) - 1
		}
	} else {
		r.hi.lo |= (uint64(1) << host) - 1
	}
	return r, ""
}
