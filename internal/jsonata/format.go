package jsonata

import (
	"math"
	"strconv"
	"strings"
)

// numberPictureParts is one analysed sub-picture of $formatNumber.
type numberPictureParts struct {
	prefix, suffix, active, mantissa, integer, fractional, sub string
	exponent                                                   *string
}

type numberPictureVars struct {
	intGroupPositions  []int
	regularGrouping    int
	minIntSize         int
	scalingFactor      int
	prefix, suffix     string
	fracGroupPositions []int
	minFracSize        int
	maxFracSize        int
	minExpSize         int
	picture            string
}

// fnFormatNumber implements $formatNumber (XPath F&O fn:format-number).
func fnFormatNumber(ev *evaluator, args []any, ctx callCtx) (any, error) {
	value, ok := numArg(args, 0)
	if !ok {
		return Undefined, nil
	}
	picture, _ := arg(args, 1).(string)
	props := map[string]string{
		"decimal-separator": ".", "grouping-separator": ",", "exponent-separator": "e",
		"infinity": "Infinity", "minus-sign": "-", "NaN": "NaN", "percent": "%",
		"per-mille": "\u2030", "zero-digit": "0", "digit": "#", "pattern-separator": ";",
	}
	if opts := arg(args, 2); isObject(opts) {
		for _, k := range objKeys(opts) {
			v, _ := objGet(opts, k)
			if s, ok := v.(string); ok {
				props[k] = s
			}
		}
	}
	firstRune := func(s string) rune {
		for _, r := range s {
			return r
		}
		return 0
	}
	zero := firstRune(props["zero-digit"])
	family := make([]string, 10)
	for i := range family {
		family[i] = string(zero + rune(i))
	}
	isDigit := func(ch string) bool {
		for _, d := range family {
			if d == ch {
				return true
			}
		}
		return false
	}
	decSep, grpSep, expSep := props["decimal-separator"], props["grouping-separator"], props["exponent-separator"]
	digit, patSep := props["digit"], props["pattern-separator"]
	active := map[string]bool{decSep: true, expSep: true, grpSep: true, digit: true, patSep: true}
	for _, d := range family {
		active[d] = true
	}
	chars := func(s string) []string {
		out := make([]string, 0, len(s))
		for _, r := range s {
			out = append(out, string(r))
		}
		return out
	}
	subPictures := strings.Split(picture, patSep)
	if len(subPictures) > 2 {
		return nil, newErr("D3080", 0, "formatNumber", nil)
	}
	split := func(sub string) numberPictureParts {
		cs := chars(sub)
		prefix := ""
		for i, ch := range cs {
			if active[ch] && ch != expSep {
				prefix = strings.Join(cs[:i], "")
				break
			}
		}
		suffix := ""
		for i := len(cs) - 1; i >= 0; i-- {
			if active[cs[i]] && cs[i] != expSep {
				suffix = strings.Join(cs[i+1:], "")
				break
			}
		}
		p := numberPictureParts{prefix: prefix, suffix: suffix, sub: sub}
		if len(prefix)+len(suffix) <= len(sub) {
			p.active = sub[len(prefix) : len(sub)-len(suffix)]
		}
		expPos := -1
		if i := strings.Index(sub[min(len(prefix), len(sub)):], expSep); i >= 0 && expSep != "" {
			expPos = i + len(prefix)
		}
		if expPos == -1 || expPos > len(sub)-len(suffix) {
			p.mantissa = p.active
		} else {
			rel := expPos - len(prefix)
			p.mantissa = p.active[:rel]
			e := p.active[min(rel+len(expSep), len(p.active)):]
			p.exponent = &e
		}
		if dp := strings.Index(p.mantissa, decSep); dp == -1 {
			p.integer = p.mantissa
			p.fractional = suffix
		} else {
			p.integer = p.mantissa[:dp]
			p.fractional = p.mantissa[dp+len(decSep):]
		}
		return p
	}
	validate := func(p numberPictureParts) error {
		code := ""
		sub := p.sub
		decPos := strings.Index(sub, decSep)
		if decPos != strings.LastIndex(sub, decSep) {
			code = "D3081"
		}
		if strings.Index(sub, props["percent"]) != strings.LastIndex(sub, props["percent"]) {
			code = "D3082"
		}
		if strings.Index(sub, props["per-mille"]) != strings.LastIndex(sub, props["per-mille"]) {
			code = "D3083"
		}
		if strings.Contains(sub, props["percent"]) && strings.Contains(sub, props["per-mille"]) {
			code = "D3084"
		}
		valid := false
		for _, ch := range chars(p.mantissa) {
			if isDigit(ch) || ch == digit {
				valid = true
				break
			}
		}
		if !valid {
			code = "D3085"
		}
		for _, ch := range chars(p.active) {
			if !active[ch] {
				code = "D3086"
			}
		}
		if decPos != -1 {
			before := sub[:decPos]
			after := sub[decPos+len(decSep):]
			if strings.HasSuffix(before, grpSep) || strings.HasPrefix(after, grpSep) {
				code = "D3087"
			}
		} else if strings.HasSuffix(p.integer, grpSep) {
			code = "D3088"
		}
		if strings.Contains(sub, grpSep+grpSep) {
			code = "D3089"
		}
		if odp := strings.Index(p.integer, digit); odp != -1 {
			for _, ch := range chars(p.integer[:odp]) {
				if isDigit(ch) {
					code = "D3090"
				}
			}
		}
		if odp := strings.LastIndex(p.fractional, digit); odp != -1 {
			for _, ch := range chars(p.fractional[odp:]) {
				if isDigit(ch) {
					code = "D3091"
				}
			}
		}
		if p.exponent != nil {
			if len(*p.exponent) > 0 && (strings.Contains(sub, props["percent"]) || strings.Contains(sub, props["per-mille"])) {
				code = "D3092"
			}
			bad := len(*p.exponent) == 0
			for _, ch := range chars(*p.exponent) {
				if !isDigit(ch) {
					bad = true
				}
			}
			if bad {
				code = "D3093"
			}
		}
		if code != "" {
			return newErr(code, 0, "formatNumber", nil)
		}
		return nil
	}
	countDigits := func(s string, withOptional bool) int {
		n := 0
		for _, ch := range chars(s) {
			if isDigit(ch) || (withOptional && ch == digit) {
				n++
			}
		}
		return n
	}
	groupPositions := func(part string, integer string, toLeft bool) []int {
		var out []int
		pos := strings.Index(part, grpSep)
		for pos != -1 && grpSep != "" {
			var side string
			if toLeft {
				side = part[:pos]
			} else {
				side = part[pos:]
			}
			out = append(out, countDigits(side, true))
			next := strings.Index(integer[min(pos+1, len(integer)):], grpSep)
			if next == -1 || pos+1 > len(integer) {
				break
			}
			pos = pos + 1 + next
		}
		return out
	}
	analyse := func(p numberPictureParts) numberPictureVars {
		v := numberPictureVars{prefix: p.prefix, suffix: p.suffix, picture: p.sub}
		v.intGroupPositions = groupPositions(p.integer, p.integer, false)
		v.regularGrouping = regularPositions(v.intGroupPositions)
		v.fracGroupPositions = groupPositions(p.fractional, p.integer, true)
		v.minIntSize = countDigits(p.integer, false)
		v.scalingFactor = v.minIntSize
		v.minFracSize = countDigits(p.fractional, false)
		v.maxFracSize = countDigits(p.fractional, true)
		hasExp := p.exponent != nil
		if v.minIntSize == 0 && v.maxFracSize == 0 {
			if hasExp {
				v.minFracSize = 1
				v.maxFracSize = 1
			} else {
				v.minIntSize = 1
			}
		}
		if hasExp && v.minIntSize == 0 && strings.Contains(p.integer, digit) {
			v.minIntSize = 1
		}
		if v.minIntSize == 0 && v.minFracSize == 0 {
			v.minFracSize = 1
		}
		if hasExp {
			v.minExpSize = countDigits(*p.exponent, false)
		}
		return v
	}
	var vars []numberPictureVars
	for _, sp := range subPictures {
		p := split(sp)
		if err := validate(p); err != nil {
			return nil, err
		}
		vars = append(vars, analyse(p))
	}
	minus := props["minus-sign"]
	if len(vars) == 1 {
		neg := vars[0]
		neg.prefix = minus + neg.prefix
		vars = append(vars, neg)
	}
	pic := vars[0]
	if !(value >= 0) {
		pic = vars[1]
	}
	adjusted := value
	if strings.Contains(pic.picture, props["percent"]) {
		adjusted = value * 100
	} else if strings.Contains(pic.picture, props["per-mille"]) {
		adjusted = value * 1000
	}
	mantissa := adjusted
	hasExponent := false
	exponent := 0
	if pic.minExpSize != 0 {
		hasExponent = true
		maxM := math.Pow(10, float64(pic.scalingFactor))
		minM := math.Pow(10, float64(pic.scalingFactor-1))
		if mantissa != 0 && !math.IsInf(mantissa, 0) && !math.IsNaN(mantissa) {
			for math.Abs(mantissa) < minM {
				mantissa *= 10
				exponent--
			}
			for math.Abs(mantissa) > maxM {
				mantissa /= 10
				exponent++
			}
		}
	}
	rounded := roundHalfEven(mantissa, pic.maxFracSize)
	makeString := func(v float64, dp int) string {
		s := strconv.FormatFloat(math.Abs(v), 'f', dp, 64)
		if zero != '0' {
			rs := []rune(s)
			for i, r := range rs {
				if r >= '0' && r <= '9' {
					rs[i] = r - '0' + zero
				}
			}
			s = string(rs)
		}
		return s
	}
	zs := string(zero)
	sv := makeString(rounded, pic.maxFracSize)
	if !strings.Contains(sv, ".") {
		sv += decSep
	} else {
		sv = strings.Replace(sv, ".", decSep, 1)
	}
	for strings.HasPrefix(sv, zs) {
		sv = sv[len(zs):]
	}
	for strings.HasSuffix(sv, zs) {
		sv = sv[:len(sv)-len(zs)]
	}
	rs := []rune(sv)
	decRunes := []rune(decSep)
	indexRunes := func(rs []rune, sub []rune) int {
		for i := 0; i+len(sub) <= len(rs); i++ {
			match := true
			for j := range sub {
				if rs[i+j] != sub[j] {
					match = false
					break
				}
			}
			if match {
				return i
			}
		}
		return -1
	}
	decPos := indexRunes(rs, decRunes)
	padLeft := pic.minIntSize - decPos
	padRight := pic.minFracSize - (len(rs) - decPos - 1)
	if padLeft > 0 {
		rs = append([]rune(strings.Repeat(zs, padLeft)), rs...)
	}
	if padRight > 0 {
		rs = append(rs, []rune(strings.Repeat(zs, padRight))...)
	}
	grp := []rune(grpSep)
	insert := func(rs []rune, at int, ins []rune) []rune {
		if at < 0 {
			at = 0
		}
		if at > len(rs) {
			at = len(rs)
		}
		out := make([]rune, 0, len(rs)+len(ins))
		out = append(out, rs[:at]...)
		out = append(out, ins...)
		return append(out, rs[at:]...)
	}
	decPos = indexRunes(rs, decRunes)
	if pic.regularGrouping > 0 {
		groupCount := (decPos - 1) / pic.regularGrouping
		for g := 1; g <= groupCount; g++ {
			rs = insert(rs, decPos-g*pic.regularGrouping, grp)
		}
	} else {
		for _, pos := range pic.intGroupPositions {
			rs = insert(rs, decPos-pos, grp)
			decPos++
		}
	}
	decPos = indexRunes(rs, decRunes)
	for _, pos := range pic.fracGroupPositions {
		rs = insert(rs, pos+decPos+1, grp)
	}
	decPos = indexRunes(rs, decRunes)
	if !strings.Contains(pic.picture, decSep) || decPos == len(rs)-1 {
		if len(rs) > 0 {
			rs = rs[:len(rs)-1]
		}
	}
	out := string(rs)
	if hasExponent {
		se := makeString(float64(exponent), 0)
		if pl := pic.minExpSize - len([]rune(se)); pl > 0 {
			se = strings.Repeat(zs, pl) + se
		}
		sign := ""
		if exponent < 0 {
			sign = minus
		}
		out += expSep + sign + se
	}
	return pic.prefix + out + pic.suffix, nil
}

func regularPositions(idx []int) int {
	if len(idx) == 0 {
		return 0
	}
	gcd := func(a, b int) int {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}
	factor := idx[0]
	for _, x := range idx[1:] {
		factor = gcd(factor, x)
	}
	if factor == 0 {
		return 0
	}
	for i := 1; i <= len(idx); i++ {
		found := false
		for _, x := range idx {
			if x == i*factor {
				found = true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return factor
}
