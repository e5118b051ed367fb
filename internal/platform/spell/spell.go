// Package spell writes small numbers as words for client messages ("Five
// wrong codes"), so a message can be built from the constant it states and
// still read as it did when the constant was written out by hand.
package spell

import "strconv"

var words = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}

// Number is n in words from zero to twelve, in digits beyond.
func Number(n int) string {
	if n >= 0 && n < len(words) {
		return words[n]
	}
	return strconv.Itoa(n)
}

// Capitalized is Number with its first letter in upper case, to open a
// sentence.
func Capitalized(n int) string {
	s := Number(n)
	if s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
