package wire

import "unicode/utf8"

// AppendString appends s as a JSON string, escaped exactly as encoding/json escapes it:
// HTML's <, > and & too, U+2028 and U+2029 (which end a line in JavaScript), and each
// byte that is not UTF-8 as U+FFFD. Answers built from parts (a page of users encoded
// without reflection) then read byte for byte as json.Marshal would have written them.
func AppendString(dst []byte, s string) []byte {
	return append(appendStringBody(append(dst, '"'), s), '"')
}

// AppendJoined appends the parts, joined, as one JSON string, as AppendString would
// append their concatenation, without making it.
func AppendJoined(dst []byte, parts ...string) []byte {
	dst = append(dst, '"')
	for _, s := range parts {
		dst = appendStringBody(dst, s)
	}
	return append(dst, '"')
}

// appendStringBody appends s escaped, without quotes. A byte that is not UTF-8 is
// escaped alone, so escaping parts one by one escapes their concatenation.
func appendStringBody(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if plainJSON[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// plainJSON holds the ASCII bytes a JSON string carries as they are.
var plainJSON = func() (plain [utf8.RuneSelf]bool) {
	for b := range plain {
		plain[b] = b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return plain
}()
