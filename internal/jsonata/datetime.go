package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file implements the XPath F&O picture-string formatting used by
// $formatInteger, $parseInteger, $fromMillis, $toMillis and $now.

var (
	fewWords      = []string{"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"}
	ordinalWords  = []string{"Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"}
	decadeWords   = []string{"Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"}
	magnitudeWord = []string{"Thousand", "Million", "Billion", "Trillion"}
	dayNames      = []string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	monthNames    = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

func numberToWords(value float64, ordinal bool) string {
	var lookup func(num float64, prev, ord bool) string
	lookup = func(num float64, prev, ord bool) string {
		words := ""
		switch {
		case num <= 19:
			if prev {
				words = " and "
			}
			i := int(num)
			if i < 0 {
				i = 0
			}
			if ord {
				words += ordinalWords[i]
			} else {
				words += fewWords[i]
			}
		case num < 100:
			tens := int(num / 10)
			rem := math.Mod(num, 10)
			if prev {
				words = " and "
			}
			words += decadeWords[tens-2]
			if rem > 0 {
				words += "-" + lookup(rem, false, ord)
			} else if ord {
				words = words[:len(words)-1] + "ieth"
			}
		case num < 1000:
			hundreds := int(num / 100)
			rem := math.Mod(num, 100)
			if prev {
				words = ", "
			}
			words += fewWords[hundreds] + " Hundred"
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		default:
			mag := int(math.Floor(math.Log10(num) / 3))
			if mag > len(magnitudeWord) {
				mag = len(magnitudeWord)
			}
			factor := math.Pow(10, float64(mag*3))
			mant := math.Floor(num / factor)
			rem := num - mant*factor
			if prev {
				words = ", "
			}
			words += lookup(mant, false, false) + " " + magnitudeWord[mag-1]
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		}
		return words
	}
	return lookup(value, false, ordinal)
}

type wordValue struct {
	word  string
	value float64
}

// wordValueList keeps JavaScript insertion order for the parsing regex.
var wordValueList = func() []wordValue {
	var out []wordValue
	seen := map[string]int{}
	add := func(w string, v float64) {
		if i, ok := seen[w]; ok {
			out[i].value = v
			return
		}
		seen[w] = len(out)
		out = append(out, wordValue{w, v})
	}
	for i, w := range fewWords {
		add(strings.ToLower(w), float64(i))
	}
	for i, w := range ordinalWords {
		add(strings.ToLower(w), float64(i))
	}
	for i, w := range decadeWords {
		lw := strings.ToLower(w)
		add(lw, float64((i+2)*10))
		add(lw[:len(lw)-1]+"ieth", float64((i+2)*10))
	}
	add("hundredth", 100)
	for i, w := range magnitudeWord {
		lw := strings.ToLower(w)
		v := math.Pow(10, float64((i+1)*3))
		add(lw, v)
		add(lw+"th", v)
	}
	return out
}()

var wordValues = func() map[string]float64 {
	m := map[string]float64{}
	for _, wv := range wordValueList {
		m[wv.word] = wv.value
	}
	return m
}()

var wordSplitRe = regexp.MustCompile(`,\s|\sand\s|[\s\\-]`)

func wordsToNumber(text string) float64 {
	parts := wordSplitRe.Split(text, -1)
	segs := []float64{0}
	for _, p := range parts {
		v, ok := wordValues[p]
		if !ok {
			v = math.NaN()
		}
		if v < 100 {
			top := segs[len(segs)-1]
			segs = segs[:len(segs)-1]
			if top >= 1000 {
				segs = append(segs, top)
				top = 0
			}
			segs = append(segs, top+v)
		} else {
			top := segs[len(segs)-1]
			segs[len(segs)-1] = top * v
		}
	}
	total := 0.0
	for _, s := range segs {
		total += s
	}
	return total
}

var romanNumerals = []struct {
	v float64
	s string
}{{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"}, {40, "xl"}, {10, "x"}, {9, "ix"}, {5, "v"}, {4, "iv"}, {1, "i"}}

func decimalToRoman(v float64) string {
	var sb strings.Builder
	for v >= 1 && sb.Len() < 100000 {
		for _, rn := range romanNumerals {
			if v >= rn.v {
				sb.WriteString(rn.s)
				v -= rn.v
				break
			}
		}
	}
	return sb.String()
}

func romanToDecimal(roman string) float64 {
	vals := map[byte]float64{'M': 1000, 'D': 500, 'C': 100, 'L': 50, 'X': 10, 'V': 5, 'I': 1}
	dec, max := 0.0, 1.0
	for i := len(roman) - 1; i >= 0; i-- {
		v := vals[roman[i]]
		if v < max {
			dec -= v
		} else {
			max = v
			dec += v
		}
	}
	return dec
}

func decimalToLetters(v float64, a byte) string {
	var letters []byte
	for v > 0 && len(letters) < 1000 {
		letters = append([]byte{byte(math.Mod(v-1, 26)) + a}, letters...)
		v = math.Floor((v - 1) / 26)
	}
	return string(letters)
}

func lettersToDecimal(s string, a byte) float64 {
	dec := 0.0
	for i := 0; i < len(s); i++ {
		dec += float64(int(s[len(s)-i-1])-int(a)+1) * math.Pow(26, float64(i))
	}
	return dec
}

const (
	fmtDecimal = iota
	fmtLetters
	fmtRoman
	fmtWords
	fmtSequence
)

const (
	caseLower = iota
	caseUpper
	caseTitle
)

type groupSep struct {
	position  int
	character string
}

type integerFormat struct {
	primary         int
	tcase           int
	ordinal         bool
	zeroCode        rune
	mandatoryDigits int
	optionalDigits  int
	regular         bool
	regularSep      groupSep
	separators      []groupSep
	token           string
	n               int
}

var decimalGroups = []rune{0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10}

func analyseIntegerPicture(picture string) (*integerFormat, error) {
	f := &integerFormat{primary: fmtDecimal, tcase: caseLower}
	primary := picture
	if semi := strings.LastIndex(picture, ";"); semi >= 0 {
		primary = picture[:semi]
		mod := picture[semi+1:]
		if strings.HasPrefix(mod, "o") {
			f.ordinal = true
		}
	}
	switch primary {
	case "A":
		f.tcase = caseUpper
		f.primary = fmtLetters
	case "a":
		f.primary = fmtLetters
	case "I":
		f.tcase = caseUpper
		f.primary = fmtRoman
	case "i":
		f.primary = fmtRoman
	case "W":
		f.tcase = caseUpper
		f.primary = fmtWords
	case "Ww":
		f.tcase = caseTitle
		f.primary = fmtWords
	case "w":
		f.primary = fmtWords
	default:
		zero := rune(-1)
		mandatory, optional, sepPos := 0, 0, 0
		var seps []groupSep
		runes := []rune(primary)
		for i := len(runes) - 1; i >= 0; i-- {
			cp := runes[i]
			digit := false
			for _, g := range decimalGroups {
				if cp >= g && cp <= g+9 {
					digit = true
					mandatory++
					sepPos++
					if zero < 0 {
						zero = g
					} else if zero != g {
						return nil, newErr("D3131", 0, "", nil)
					}
					break
				}
			}
			if !digit {
				if cp == '#' {
					sepPos++
					optional++
				} else {
					seps = append(seps, groupSep{position: sepPos, character: string(cp)})
				}
			}
		}
		if mandatory > 0 {
			f.primary = fmtDecimal
			f.zeroCode = zero
			f.mandatoryDigits = mandatory
			f.optionalDigits = optional
			if reg := regularRepeat(seps); reg > 0 {
				f.regular = true
				f.regularSep = groupSep{position: reg, character: seps[0].character}
			} else {
				f.separators = seps
			}
		} else {
			f.primary = fmtSequence
			f.token = primary
		}
	}
	return f, nil
}

func regularRepeat(seps []groupSep) int {
	if len(seps) == 0 {
		return 0
	}
	for _, s := range seps[1:] {
		if s.character != seps[0].character {
			return 0
		}
	}
	gcd := func(a, b int) int {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}
	factor := seps[0].position
	for _, s := range seps[1:] {
		factor = gcd(factor, s.position)
	}
	if factor == 0 {
		return 0
	}
	for i := 1; i <= len(seps); i++ {
		found := false
		for _, s := range seps {
			if s.position == i*factor {
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

func formatIntegerWith(value float64, f *integerFormat) (string, error) {
	if math.IsInf(value, 0) || math.IsNaN(value) {
		return "", newErr("D1001", 0, "", value)
	}
	negative := value < 0
	value = math.Abs(value)
	var out string
	switch f.primary {
	case fmtLetters:
		a := byte('a')
		if f.tcase == caseUpper {
			a = 'A'
		}
		out = decimalToLetters(value, a)
	case fmtRoman:
		out = decimalToRoman(value)
		if f.tcase == caseUpper {
			out = strings.ToUpper(out)
		}
	case fmtWords:
		out = numberToWords(value, f.ordinal)
		switch f.tcase {
		case caseUpper:
			out = strings.ToUpper(out)
		case caseLower:
			out = strings.ToLower(out)
		}
	case fmtDecimal:
		out = formatNumber(value)
		if pad := f.mandatoryDigits - utf8.RuneCountInString(out); pad > 0 {
			out = strings.Repeat("0", pad) + out
		}
		if f.zeroCode != '0' && f.zeroCode > 0 {
			rs := []rune(out)
			for i, r := range rs {
				if r >= '0' && r <= '9' {
					rs[i] = r - '0' + f.zeroCode
				}
			}
			out = string(rs)
		}
		rs := []rune(out)
		if f.regular {
			n := (len(rs) - 1) / f.regularSep.position
			for ii := n; ii > 0; ii-- {
				pos := len(rs) - ii*f.regularSep.position
				rs = append(rs[:pos:pos], append([]rune(f.regularSep.character), rs[pos:]...)...)
			}
		} else {
			for i := len(f.separators) - 1; i >= 0; i-- {
				s := f.separators[i]
				pos := len(rs) - s.position
				if pos < 0 {
					pos = 0
				}
				rs = append(rs[:pos:pos], append([]rune(s.character), rs[pos:]...)...)
			}
		}
		out = string(rs)
		if f.ordinal {
			suffix := "th"
			last := out[len(out)-1]
			switch last {
			case '1':
				suffix = "st"
			case '2':
				suffix = "nd"
			case '3':
				suffix = "rd"
			}
			if len(out) > 1 && out[len(out)-2] == '1' {
				suffix = "th"
			}
			out += suffix
		}
	case fmtSequence:
		return "", newErr("D3130", 0, "", f.token)
	}
	if negative {
		out = "-" + out
	}
	return out, nil
}

func fnFormatInteger(ev *evaluator, args []any, ctx callCtx) (any, error) {
	v, ok := numArg(args, 0)
	if !ok {
		return Undefined, nil
	}
	pic, _ := arg(args, 1).(string)
	f, err := analyseIntegerPicture(pic)
	if err != nil {
		return nil, err
	}
	return formatIntegerWith(math.Floor(v), f)
}

func fnParseInteger(ev *evaluator, args []any, ctx callCtx) (any, error) {
	s, ok := arg(args, 0).(string)
	if !ok {
		return Undefined, nil
	}
	pic, _ := arg(args, 1).(string)
	f, err := analyseIntegerPicture(pic)
	if err != nil {
		return nil, err
	}
	m, err := integerMatcher(f)
	if err != nil {
		return nil, err
	}
	r := m.parse(s)
	if math.IsNaN(r) {
		return Undefined, nil
	}
	return r, nil
}

type matcherPart struct {
	regex     string
	parse     func(string) float64
	component byte
}

func integerMatcher(f *integerFormat) (*matcherPart, error) {
	m := &matcherPart{}
	isUpper := f.tcase == caseUpper
	occurrences := "+"
	if f.n > 0 {
		occurrences = "{" + strconv.Itoa(f.n) + "}"
	}
	switch f.primary {
	case fmtLetters:
		a := byte('a')
		m.regex = "[a-z]+"
		if isUpper {
			a = 'A'
			m.regex = "[A-Z]+"
		}
		m.parse = func(v string) float64 { return lettersToDecimal(v, a) }
	case fmtRoman:
		m.regex = "[mdclxvi]+"
		if isUpper {
			m.regex = "[MDCLXVI]+"
		}
		m.parse = func(v string) float64 { return romanToDecimal(strings.ToUpper(v)) }
	case fmtWords:
		words := make([]string, 0, len(wordValueList)+2)
		for _, wv := range wordValueList {
			words = append(words, wv.word)
		}
		words = append(words, "and", `[\-, ]`)
		m.regex = "(?:" + strings.Join(words, "|") + ")+"
		m.parse = func(v string) float64 { return wordsToNumber(strings.ToLower(v)) }
	case fmtDecimal:
		m.regex = "[0-9]" + occurrences
		if f.ordinal {
			m.regex += "(?:th|st|nd|rd)"
		}
		m.parse = func(v string) float64 {
			digits := v
			if f.ordinal && len(digits) >= 2 {
				digits = digits[:len(digits)-2]
			}
			if f.regular {
				digits = strings.ReplaceAll(digits, ",", "")
			} else {
				for _, s := range f.separators {
					digits = strings.ReplaceAll(digits, s.character, "")
				}
			}
			if f.zeroCode != '0' && f.zeroCode > 0 {
				rs := []rune(digits)
				for i, r := range rs {
					rs[i] = r - f.zeroCode + '0'
				}
				digits = string(rs)
			}
			return parseIntPrefix(digits)
		}
	case fmtSequence:
		return nil, newErr("D3130", 0, "", f.token)
	}
	return m, nil
}

// parseIntPrefix implements JavaScript parseInt(s, 10).
func parseIntPrefix(s string) float64 {
	s = strings.TrimSpace(s)
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(s[start:i], 64)
	if neg {
		f = -f
	}
	return f
}

// date/time pictures

type width struct {
	min, max       int
	hasMin, hasMax bool
}

type dtPart struct {
	literal       bool
	value         string
	component     byte
	presentation1 string
	presentation2 string
	ordinal       bool
	names         int // -1 none
	width         *width
	intFormat     *integerFormat
	n             int
}

var defaultPresentation = map[byte]string{
	'Y': "1", 'M': "1", 'D': "1", 'd': "1", 'F': "n", 'W': "1", 'w': "1", 'X': "1", 'x': "1", 'H': "1", 'h': "1",
	'P': "n", 'm': "01", 's': "01", 'f': "1", 'Z': "01:01", 'z': "01:01", 'C': "n", 'E': "n",
}

var wsRe = regexp.MustCompile(`\s+`)

func analyseDateTimePicture(picture string) ([]*dtPart, error) {
	var spec []*dtPart
	addLiteral := func(start, end int) {
		if end > start {
			lit := strings.ReplaceAll(picture[start:end], "]]", "]")
			spec = append(spec, &dtPart{literal: true, value: lit})
		}
	}
	start, pos := 0, 0
	for pos < len(picture) {
		if picture[pos] == '[' {
			if pos+1 < len(picture) && picture[pos+1] == '[' {
				addLiteral(start, pos)
				spec = append(spec, &dtPart{literal: true, value: "["})
				pos += 2
				start = pos
				continue
			}
			addLiteral(start, pos)
			start = pos
			end := strings.IndexByte(picture[start:], ']')
			if end < 0 {
				return nil, newErr("D3135", 0, "", nil)
			}
			pos = start + end
			marker := wsRe.ReplaceAllString(picture[start+1:pos], "")
			def := &dtPart{names: -1}
			if marker != "" {
				def.component = marker[0]
			}
			var presMod string
			if comma := strings.LastIndex(marker, ","); comma >= 0 {
				wm := marker[comma+1:]
				w := &width{}
				minS, maxS := wm, ""
				hasMaxS := false
				if dash := strings.Index(wm, "-"); dash >= 0 {
					minS, maxS = wm[:dash], wm[dash+1:]
					hasMaxS = true
				}
				if minS != "*" {
					if v := parseIntPrefix(minS); !math.IsNaN(v) {
						w.min, w.hasMin = int(v), true
					}
				}
				if hasMaxS && maxS != "*" {
					if v := parseIntPrefix(maxS); !math.IsNaN(v) {
						w.max, w.hasMax = int(v), true
					}
				}
				def.width = w
				if comma >= 1 {
					presMod = marker[1:comma]
				}
			} else if len(marker) > 0 {
				presMod = marker[1:]
			}
			if len(presMod) == 1 {
				def.presentation1 = presMod
			} else if len(presMod) > 1 {
				last := presMod[len(presMod)-1]
				if strings.IndexByte("atco", last) >= 0 {
					def.presentation2 = string(last)
					if last == 'o' {
						def.ordinal = true
					}
					def.presentation1 = presMod[:len(presMod)-1]
				} else {
					def.presentation1 = presMod
				}
			} else {
				p, ok := defaultPresentation[def.component]
				if !ok {
					return nil, newErr("D3132", 0, "", string(def.component))
				}
				def.presentation1 = p
			}
			if def.presentation1 == "" {
				return nil, newErr("D3132", 0, "", string(def.component))
			}
			if def.presentation1[0] == 'n' {
				def.names = caseLower
			} else if def.presentation1[0] == 'N' {
				if len(def.presentation1) > 1 && def.presentation1[1] == 'n' {
					def.names = caseTitle
				} else {
					def.names = caseUpper
				}
			} else if strings.IndexByte("YMDdFWwXxHhmsf", def.component) >= 0 && def.component != 0 {
				pat := def.presentation1
				if def.presentation2 != "" {
					pat += ";" + def.presentation2
				}
				f, err := analyseIntegerPicture(pat)
				if err != nil {
					return nil, err
				}
				def.intFormat = f
				if def.width != nil && def.width.hasMin && f.mandatoryDigits < def.width.min {
					f.mandatoryDigits = def.width.min
				}
				if def.component == 'Y' {
					def.n = -1
					if def.width != nil && def.width.hasMax {
						def.n = def.width.max
						f.mandatoryDigits = def.n
					} else if w := f.mandatoryDigits + f.optionalDigits; w >= 2 {
						def.n = w
					}
				}
			}
			if def.component == 'Z' || def.component == 'z' {
				f, err := analyseIntegerPicture(def.presentation1)
				if err != nil {
					return nil, err
				}
				def.intFormat = f
			}
			spec = append(spec, def)
			start = pos + 1
		}
		pos++
	}
	addLiteral(start, pos)
	return spec, nil
}

const millisInADay = 86400000.0

func utcMillis(year, month int) float64 {
	return float64(time.Date(year, time.Month(month+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli())
}

func startOfFirstWeek(year, month int) float64 {
	jan1 := utcMillis(year, month)
	dow := int(time.UnixMilli(int64(jan1)).UTC().Weekday())
	if dow == 0 {
		dow = 7
	}
	if dow > 4 {
		return jan1 + float64(8-dow)*millisInADay
	}
	return jan1 - float64(dow-1)*millisInADay
}

func nextMonth(y, m int) (int, int) {
	if m == 11 {
		return y + 1, 0
	}
	return y, m + 1
}

func prevMonth(y, m int) (int, int) {
	if m == 0 {
		return y - 1, 11
	}
	return y, m - 1
}

func dayMillis(y, m, d int) float64 {
	return float64(time.Date(y, time.Month(m+1), d, 0, 0, 0, 0, time.UTC).UnixMilli())
}

// dateFragment returns the numeric (or string, for P/C/E) value of a component.
func dateFragment(t time.Time, c byte) any {
	switch c {
	case 'Y':
		return float64(t.Year())
	case 'M':
		return float64(t.Month())
	case 'D':
		return float64(t.Day())
	case 'd':
		return float64(t.YearDay())
	case 'F':
		d := int(t.Weekday())
		if d == 0 {
			d = 7
		}
		return float64(d)
	case 'W':
		y := t.Year()
		start := startOfFirstWeek(y, 0)
		today := dayMillis(y, int(t.Month())-1, t.Day())
		week := (today-start)/(millisInADay*7) + 1
		if week > 52 {
			if today >= startOfFirstWeek(y+1, 0) {
				week = 1
			}
		} else if week < 1 {
			week = (today-startOfFirstWeek(y-1, 0))/(millisInADay*7) + 1
		}
		return math.Floor(week)
	case 'w':
		y, m := t.Year(), int(t.Month())-1
		start := startOfFirstWeek(y, m)
		today := dayMillis(y, m, t.Day())
		week := (today-start)/(millisInADay*7) + 1
		if week > 4 {
			ny, nm := nextMonth(y, m)
			if today >= startOfFirstWeek(ny, nm) {
				week = 1
			}
		} else if week < 1 {
			py, pm := prevMonth(y, m)
			week = (today-startOfFirstWeek(py, pm))/(millisInADay*7) + 1
		}
		return math.Floor(week)
	case 'X':
		y := t.Year()
		now := float64(t.UnixMilli())
		if now < startOfFirstWeek(y, 0) {
			return float64(y - 1)
		} else if now >= startOfFirstWeek(y+1, 0) {
			return float64(y + 1)
		}
		return float64(y)
	case 'x':
		y, m := t.Year(), int(t.Month())-1
		now := float64(t.UnixMilli())
		ny, nm := nextMonth(y, m)
		if now < startOfFirstWeek(y, m) {
			_, pm := prevMonth(y, m)
			return float64(pm + 1)
		} else if now >= startOfFirstWeek(ny, nm) {
			return float64(nm + 1)
		}
		return float64(m + 1)
	case 'H':
		return float64(t.Hour())
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return float64(h)
	case 'P':
		if t.Hour() >= 12 {
			return "pm"
		}
		return "am"
	case 'm':
		return float64(t.Minute())
	case 's':
		return float64(t.Second())
	case 'f':
		return float64(t.Nanosecond() / 1e6)
	case 'C', 'E':
		return "ISO"
	}
	return Undefined
}

var iso8601Picture = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"

func formatDateTime(millis float64, picture string, hasPicture bool, tz string, hasTZ bool) (string, error) {
	offH, offM := 0, 0
	if hasTZ {
		off := parseIntPrefix(tz)
		if !math.IsNaN(off) {
			offH = int(math.Floor(off / 100))
			offM = int(math.Mod(off, 100))
		}
	}
	if !hasPicture {
		picture = iso8601Picture
	}
	spec, err := analyseDateTimePicture(picture)
	if err != nil {
		return "", err
	}
	offsetMillis := float64((60*offH + offM) * 60 * 1000)
	ms := millis + offsetMillis
	if math.IsNaN(ms) || math.Abs(ms) > 8.64e15 {
		return "", newErr("D3110", 0, "", millis)
	}
	t := time.UnixMilli(int64(math.Floor(ms))).UTC()
	var sb strings.Builder
	for _, p := range spec {
		if p.literal {
			sb.WriteString(p.value)
			continue
		}
		s, err := formatComponent(t, p, offH, offM)
		if err != nil {
			return "", err
		}
		sb.WriteString(s)
	}
	return sb.String(), nil
}

func formatComponent(t time.Time, p *dtPart, offH, offM int) (string, error) {
	val := dateFragment(t, p.component)
	c := p.component
	switch {
	case strings.IndexByte("YMDdFWwXxHhms", c) >= 0 && c != 0:
		num, _ := val.(float64)
		if c == 'Y' && p.n != -1 {
			num = math.Mod(num, math.Pow(10, float64(p.n)))
		}
		if p.names >= 0 {
			var name string
			switch c {
			case 'M', 'x':
				name = monthNames[int(num)-1]
			case 'F':
				name = dayNames[int(num)]
			default:
				return "", newErr("D3133", 0, "", string(c))
			}
			switch p.names {
			case caseUpper:
				name = strings.ToUpper(name)
			case caseLower:
				name = strings.ToLower(name)
			}
			if p.width != nil && p.width.hasMax && len(name) > p.width.max {
				name = name[:p.width.max]
			}
			return name, nil
		}
		if p.intFormat == nil {
			return "", newErr("D3132", 0, "", string(c))
		}
		return formatIntegerWith(num, p.intFormat)
	case c == 'f':
		num, _ := val.(float64)
		if p.intFormat == nil {
			return "", newErr("D3132", 0, "", string(c))
		}
		return formatIntegerWith(num, p.intFormat)
	case c == 'Z' || c == 'z':
		offset := offH*100 + offM
		var s string
		var err error
		f := p.intFormat
		if f.regular {
			s, err = formatIntegerWith(float64(offset), f)
		} else {
			switch f.mandatoryDigits {
			case 1, 2:
				s, err = formatIntegerWith(float64(offH), f)
				if offM != 0 {
					mf, _ := analyseIntegerPicture("00")
					ms, _ := formatIntegerWith(float64(offM), mf)
					s += ":" + ms
				}
			case 3, 4:
				s, err = formatIntegerWith(float64(offset), f)
			default:
				return "", newErr("D3134", 0, "", float64(f.mandatoryDigits))
			}
		}
		if err != nil {
			return "", err
		}
		if offset >= 0 {
			s = "+" + s
		}
		if c == 'z' {
			s = "GMT" + s
		}
		if offset == 0 && p.presentation2 == "t" {
			s = "Z"
		}
		return s, nil
	}
	if s, ok := val.(string); ok {
		if c == 'P' && p.names == caseUpper {
			return strings.ToUpper(s), nil
		}
		return s, nil
	}
	return "", nil
}

func (ev *evaluator) timestamp() time.Time {
	if !ev.hasNow {
		if ev.nowFunc != nil {
			ev.now = ev.nowFunc()
		} else {
			ev.now = time.Now()
		}
		ev.hasNow = true
	}
	return ev.now
}

func registerDateFunctions() {
	register("now", "<s?s?:s>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		ms := float64(ev.timestamp().UnixMilli())
		pic, hasPic := arg(args, 0).(string)
		tz, hasTZ := arg(args, 1).(string)
		return formatDateTime(ms, pic, hasPic, tz, hasTZ)
	})
	register("millis", "<:n>", 0, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		return float64(ev.timestamp().UnixMilli()), nil
	})
	register("fromMillis", "<n-s?s?:s>", 3, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		ms, ok := numArg(args, 0)
		if !ok {
			return Undefined, nil
		}
		pic, hasPic := arg(args, 1).(string)
		tz, hasTZ := arg(args, 2).(string)
		return formatDateTime(ms, pic, hasPic, tz, hasTZ)
	})
	register("toMillis", "<s-s?:n>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		pic, hasPic := arg(args, 1).(string)
		if !hasPic {
			ms, ok := parseISO8601(s)
			if !ok {
				return nil, newErr("D3110", 0, "", s)
			}
			return ms, nil
		}
		return ev.parseDateTime(s, pic)
	})
}

var iso8601Re = regexp.MustCompile(`^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`)
var isoPartsRe = regexp.MustCompile(`^(\d{4})(?:-(\d\d))?(?:-(\d\d))?(?:T(\d\d):(\d\d):(\d\d)(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$`)

// parseISO8601 implements the ISO branch of $toMillis (Date.parse of a
// validated ISO 8601 string; times without an offset are taken as UTC).
func parseISO8601(s string) (any, bool) {
	if !iso8601Re.MatchString(s) {
		return nil, false
	}
	m := isoPartsRe.FindStringSubmatch(s)
	if m == nil {
		return Undefined, true // shape accepted by the validator but not by Date.parse: NaN
	}
	atoiD := func(x string, def int) int {
		if x == "" {
			return def
		}
		n, _ := strconv.Atoi(x)
		return n
	}
	y, mo, d := atoiD(m[1], 0), atoiD(m[2], 1), atoiD(m[3], 1)
	h, mi, sec := atoiD(m[4], 0), atoiD(m[5], 0), atoiD(m[6], 0)
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 59 {
		return nil, false
	}
	frac := 0.0
	if m[7] != "" {
		digits := m[7][1:]
		if len(digits) > 3 {
			digits = digits[:3]
		}
		for len(digits) < 3 {
			digits += "0"
		}
		f, _ := strconv.Atoi(digits)
		frac = float64(f)
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	ms := float64(t.UnixMilli()) + frac
	if z := m[8]; z != "" && z != "Z" {
		sign := 1.0
		if z[0] == '-' {
			sign = -1
		}
		z = strings.ReplaceAll(z[1:], ":", "")
		zh, _ := strconv.Atoi(z[:2])
		zm, _ := strconv.Atoi(z[2:])
		ms -= sign * float64(zh*60+zm) * 60000
	}
	return ms, true
}

func (ev *evaluator) parseDateTime(timestamp, picture string) (any, error) {
	spec, err := analyseDateTimePicture(picture)
	if err != nil {
		return nil, err
	}
	var parts []*matcherPart
	var sb strings.Builder
	sb.WriteString("(?i)^")
	for _, p := range spec {
		var mp *matcherPart
		switch {
		case p.literal:
			mp = &matcherPart{regex: regexp.QuoteMeta(p.value)}
		case p.component == 'Z' || p.component == 'z':
			comp := p.component
			var sepChar string
			if p.intFormat.regular {
				sepChar = p.intFormat.regularSep.character
			}
			re := ""
			if comp == 'z' {
				re = "GMT"
			}
			re += "[-+][0-9]+"
			if sepChar != "" {
				re += regexp.QuoteMeta(sepChar) + "[0-9]+"
			}
			mp = &matcherPart{regex: re, parse: func(v string) float64 {
				if comp == 'z' && len(v) >= 3 {
					v = v[3:]
				}
				oh, om := 0.0, 0.0
				if sepChar != "" {
					i := strings.Index(v, sepChar)
					oh = parseIntPrefix(v[:i])
					om = parseIntPrefix(v[i+len(sepChar):])
				} else if len(v)-1 <= 2 {
					oh = parseIntPrefix(v)
				} else {
					oh = parseIntPrefix(v[:3])
					om = parseIntPrefix(v[3:])
				}
				return oh*60 + om
			}}
		case p.intFormat != nil:
			f := *p.intFormat
			f.n = p.n
			if p.component != 'Y' {
				f.n = 0
				if f.primary == fmtDecimal && f.optionalDigits == 0 && f.mandatoryDigits > 1 {
					f.n = f.mandatoryDigits
				}
			}
			m, err := integerMatcher(&f)
			if err != nil {
				return nil, err
			}
			if p.component == 'f' && f.primary == fmtDecimal {
				m.parse = func(v string) float64 {
					d := leadingDigits(v)
					if d == "" {
						return math.NaN()
					}
					d = (d + "000")[:3]
					return parseIntPrefix(d)
				}
			}
			mp = m
		default:
			lookup := map[string]float64{}
			switch p.component {
			case 'M', 'x':
				for i, name := range monthNames {
					if p.width != nil && p.width.hasMax && p.width.max < len(name) {
						name = name[:p.width.max]
					}
					lookup[strings.ToLower(name)] = float64(i + 1)
				}
			case 'F':
				for i, name := range dayNames[1:] {
					if p.width != nil && p.width.hasMax && p.width.max < len(name) {
						name = name[:p.width.max]
					}
					lookup[strings.ToLower(name)] = float64(i + 1)
				}
			case 'P':
				lookup = map[string]float64{"am": 0, "pm": 1}
			default:
				return nil, newErr("D3133", 0, "", string(p.component))
			}
			mp = &matcherPart{regex: "[a-zA-Z]+", parse: func(v string) float64 {
				if r, ok := lookup[strings.ToLower(v)]; ok {
					return r
				}
				return math.NaN()
			}}
		}
		if !p.literal {
			mp.component = p.component
		}
		parts = append(parts, mp)
		sb.WriteString("(" + mp.regex + ")")
	}
	sb.WriteString("$")
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return Undefined, nil
	}
	info := re.FindStringSubmatch(timestamp)
	if info == nil {
		return Undefined, nil
	}
	comps := map[byte]float64{}
	for i := 1; i < len(info); i++ {
		mp := parts[i-1]
		if mp.parse != nil {
			if v := mp.parse(info[i]); !math.IsNaN(v) {
				comps[mp.component] = v
			}
		}
	}
	if len(comps) == 0 {
		return Undefined, nil
	}
	has := func(c byte) bool {
		v, ok := comps[c]
		return ok && !math.IsNaN(v) && v != 0
	}
	// JavaScript truthiness of the component values decides the masks
	mask := 0
	shift := func(c byte) {
		mask <<= 1
		if has(c) {
			mask++
		}
	}
	isType := func(t int) bool { return (^t&mask) == 0 && (t&mask) != 0 }
	for _, c := range []byte("YXMxWwdD") {
		shift(c)
	}
	dateA := isType(161)
	dateB := !dateA && isType(130)
	dateC := isType(84)
	dateD := !dateC && isType(72)
	mask = 0
	for _, c := range []byte("PHhmsf") {
		shift(c)
	}
	timeA := isType(23)
	timeB := !timeA && isType(47)
	dateComps := "YMD"
	switch {
	case dateB:
		dateComps = "YD"
	case dateC:
		dateComps = "XxwF"
	case dateD:
		dateComps = "XWF"
	}
	timeComps := "Hmsf"
	if timeB {
		timeComps = "Phmsf"
	}
	now := ev.timestamp().UTC()
	startSpecified, endSpecified := false, false
	for _, c := range []byte(dateComps + timeComps) {
		if _, ok := comps[c]; !ok {
			if startSpecified {
				if strings.IndexByte("MDd", c) >= 0 {
					comps[c] = 1
				} else {
					comps[c] = 0
				}
				endSpecified = true
			} else {
				v, _ := dateFragment(now, c).(float64)
				if c == 'P' {
					if now.Hour() >= 12 {
						v = 1
					} else {
						v = 0
					}
				}
				comps[c] = v
			}
		} else {
			startSpecified = true
			if endSpecified {
				return nil, newErr("D3136", 0, "", nil)
			}
		}
	}
	if comps['M'] > 0 {
		comps['M']--
	} else {
		comps['M'] = 0
	}
	if dateB {
		firstJan := utcMillis(int(comps['Y']), 0)
		derived := time.UnixMilli(int64(firstJan + (comps['d']-1)*millisInADay)).UTC()
		comps['M'] = float64(derived.Month() - 1)
		comps['D'] = float64(derived.Day())
	}
	if dateC || dateD {
		return nil, newErr("D3136", 0, "", nil)
	}
	if timeB {
		h := comps['h']
		if h == 12 {
			h = 0
		}
		if comps['P'] == 1 {
			h += 12
		}
		comps['H'] = h
	}
	for _, v := range comps {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e9 {
			return Undefined, nil
		}
	}
	t := time.Date(int(comps['Y']), time.Month(int(comps['M'])+1), int(comps['D']), int(comps['H']), int(comps['m']), int(comps['s']), int(comps['f'])*1e6, time.UTC)
	ms := float64(t.UnixMilli())
	if z, ok := comps['Z']; ok && z != 0 {
		ms -= z * 60000
	} else if z, ok := comps['z']; ok && z != 0 {
		ms -= z * 60000
	}
	return ms, nil
}
