// Package wire is what every face does alike on the wire: it writes JSON answers (never
// cached: answers carry users' data and, from sign-in and key endpoints, credentials),
// reads request bodies within the server's limit, and reads paging parameters with guards
// against overflow. Each face keeps its own vocabulary and error shape; this package
// names the parameter at fault and lets the face say it.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"iamd"
)

// JSON writes a face's JSON answers.
type JSON struct {
	// ContentType is the face's media type; "application/json" when empty.
	ContentType string
	// InternalError is the face's own body for an internal error, sent (with 500) when
	// an answer cannot be encoded.
	InternalError []byte
}

// Write answers v with status. Every answer is Cache-Control: no-store (RFC 9111
// §5.2.2.5): sign-in, refresh and key answers carry credentials, and the rest carry
// people's data, which no shared cache or browser history should keep.
func (j JSON) Write(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, j.InternalError
	}
	j.WriteEncoded(w, status, body)
}

// WriteEncoded answers body, JSON text already encoded, with status, as Write answers.
func (j JSON) WriteEncoded(w http.ResponseWriter, status int, body []byte) {
	contentType := j.ContentType
	if contentType == "" {
		contentType = "application/json"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// Written whole: a large body passes the connection's buffer in one write.
	w.Write(body)
	w.Write(newline)
}

var newline = []byte{'\n'}

// ReadBody reads a request's whole body, which the server has bounded: a body over the
// limit is an iamd ETOOLARGE error, one that cannot be read a malformed *BodyError. Every
// face's body is JSON text, so what no JSON text may hold is refused here, before any
// decoder reads it: bytes that are not UTF-8 (RFC 8259 §8.1; decoders would store them
// as U+FFFD), and a name twice in one object (§4: names SHOULD be unique, and decoders
// keep the last, which the client cannot know) — a *BodyError naming the field.
func ReadBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &iamd.Error{Code: iamd.ETOOLARGE, Message: fmt.Sprintf("The request body exceeds the limit of %d bytes.", tooLarge.Limit)}
	} else if err != nil {
		return nil, malformed("The request body could not be read.")
	}
	if !utf8.Valid(body) {
		return nil, malformed("The request body must be UTF-8 encoded JSON.")
	}
	if field, ok := repeatedName(body); ok {
		return nil, invalid(field, "%s appears twice in one object; send each field once.", field)
	}
	return body, nil
}

// repeatedName finds the first name that appears twice in one object of the JSON text
// body, as a path ("userProfile.loginId", "params[1].loginId"). It scans the bytes once
// without decoding (every write pays it); names are compared as sent, and unescaped only
// when they hold an escape. Text that is not JSON may go unnoticed: its decoder says
// what is wrong with it.
func repeatedName(body []byte) (string, bool) {
	type level struct {
		object   bool
		names    [][]byte // an object's names so far
		index    int      // an array's current element
		wantName bool     // an object's next string is a name
	}
	var stack []level
	path := func(last []byte) string {
		var parts strings.Builder
		for k, l := range stack {
			last := k == len(stack)-1
			switch {
			case !l.object:
				fmt.Fprintf(&parts, "[%d]", l.index)
			case !last && len(l.names) > 0: // none only in text that is not JSON
				if parts.Len() > 0 {
					parts.WriteByte('.')
				}
				parts.Write(l.names[len(l.names)-1])
			}
		}
		if parts.Len() > 0 {
			parts.WriteByte('.')
		}
		parts.Write(last)
		return parts.String()
	}
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			stack = append(stack, level{object: true, wantName: true})
		case '[':
			stack = append(stack, level{})
		case '}', ']':
			if len(stack) == 0 {
				return "", false
			}
			stack = stack[:len(stack)-1]
		case ',':
			if len(stack) > 0 {
				if top := &stack[len(stack)-1]; top.object {
					top.wantName = true
				} else {
					top.index++
				}
			}
		case '"':
			end := i + 1
			for end < len(body) && body[end] != '"' {
				if body[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(body) {
				return "", false
			}
			if len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].wantName {
				top := &stack[len(stack)-1]
				name := body[i+1 : end]
				if bytes.IndexByte(name, '\\') >= 0 {
					var s string
					if json.Unmarshal(body[i:end+1], &s) != nil {
						return "", false
					}
					name = []byte(s)
				}
				for _, seen := range top.names {
					if bytes.Equal(seen, name) {
						return path(name), true
					}
				}
				top.names, top.wantName = append(top.names, name), false
			}
			i = end
		}
	}
	return "", false
}

// MaxOffset bounds how far into a listing a page may start: far beyond any directory,
// and far from overflowing an offset computed as page × size.
const MaxOffset = 1 << 31

// Paging describes a face's page parameters: a page number from 0 and a size from 1 to
// MaxSize, DefaultSize when absent.
type Paging struct {
	DefaultSize, MaxSize int
}

// PageError names the parameter at fault, "page" or "size" (the face says it in its
// own words and shape).
type PageError struct{ Param string }

func (e *PageError) Error() string { return "bad " + e.Param + " parameter" }

// Read reads the page and size parameters' texts ("" when absent) and returns the
// offset of the page's first item, the page number and the size.
func (p Paging) Read(pageText, sizeText string) (offset, page, size int, err error) {
	page, size = 0, p.DefaultSize
	if sizeText != "" {
		n, err := strconv.Atoi(sizeText)
		if err != nil || n < 1 || n > p.MaxSize {
			return 0, 0, 0, &PageError{Param: "size"}
		}
		size = n
	}
	if pageText != "" {
		n, err := strconv.Atoi(pageText)
		if err != nil || n < 0 || n > MaxOffset/size {
			return 0, 0, 0, &PageError{Param: "page"}
		}
		page = n
	}
	return page * size, page, size, nil
}
