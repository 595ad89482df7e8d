package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"iamd/face/ncloud"
	"iamd/face/scp"
)

// signCommand signs a request the way a face's vendor signs it — SCP IAM Identity Center
// (the default) or NAVER Cloud's API Gateway signature v2 (--face ncloud): it prints a
// curl command with the signature headers, or the headers alone, or runs the request.
func signCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		accessKey  = fs.String("access-key", "", "access key (default: $IAMD_ADMIN_ACCESS_KEY)")
		accountID  = fs.String("account-id", "", "Scp-AccountId header value")
		clientType = fs.String("client-type", "Openapi", "Scp-ClientType header value")
		apiVersion = fs.String("api-version", "", `Scp-Api-Version header value, e.g. "iam-identity-center 1.4" (default: none, the current version)`)
		data       = fs.String("data", "", "request body, or @FILE to read it from a file (- for stdin)")
		timestamp  = fs.String("timestamp", "", "Unix milliseconds to sign with (default: now)")
		output     = fs.String("output", "curl", "what to print: curl (a command line) or headers")
		runIt      = fs.Bool("run", false, "send the request and print the response body instead")
		face       = fs.String("face", "scp", "whose signature: scp, or ncloud (API Gateway signature v2)")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: iamd sign [flags] METHOD URL\n\nThe secret key is read from $IAMD_SECRET_KEY, else $IAMD_ADMIN_SECRET_KEY; never from a flag, which\nother users of the machine could see.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("sign needs METHOD and URL")
	}
	method, rawURL := strings.ToUpper(fs.Arg(0)), fs.Arg(1)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("URL must be absolute, like http://127.0.0.1:8080/scp/v1/users")
	}
	if *accessKey == "" {
		*accessKey = os.Getenv("IAMD_ADMIN_ACCESS_KEY")
	}
	secret := os.Getenv("IAMD_SECRET_KEY")
	if secret == "" {
		secret = os.Getenv("IAMD_ADMIN_SECRET_KEY")
	}
	if *accessKey == "" || secret == "" {
		return fmt.Errorf("set --access-key (or IAMD_ADMIN_ACCESS_KEY) and IAMD_SECRET_KEY (or IAMD_ADMIN_SECRET_KEY)")
	}
	if *timestamp == "" {
		*timestamp = strconv.FormatInt(time.Now().UnixMilli(), 10)
	}
	body, err := readBody(*data)
	if err != nil {
		return err
	}

	// What the client calls is what it signs: the URL as given, path escaped as sent.
	fullURL := u.Scheme + "://" + u.Host + u.EscapedPath()
	if u.RawQuery != "" {
		fullURL += "?" + u.RawQuery
	}
	var headers [][2]string
	switch *face {
	case "scp":
		headers = scp.SignedHeaders(secret, method, fullURL, *timestamp, *accessKey, *accountID, *clientType)
		if *apiVersion != "" {
			headers = append(headers, [2]string{scp.HeaderAPIVersion, *apiVersion})
		}
	case "ncloud":
		// Signature v2 signs the request URI alone: path and query as sent.
		requestURI := u.EscapedPath()
		if u.RawQuery != "" {
			requestURI += "?" + u.RawQuery
		}
		headers = ncloud.SignedHeaders(secret, method, requestURI, *timestamp, *accessKey)
	default:
		return fmt.Errorf("--face must be scp or ncloud, got %q", *face)
	}
	if body != nil {
		headers = append(headers, [2]string{"Content-Type", "application/json"})
	}

	if *runIt {
		req, err := http.NewRequestWithContext(ctx, method, fullURL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		for _, h := range headers {
			req.Header.Set(h[0], h[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		fmt.Fprintln(stderr, resp.Proto, resp.Status)
		_, err = io.Copy(stdout, resp.Body)
		return err
	}
	switch *output {
	case "headers":
		for _, h := range headers {
			fmt.Fprintf(stdout, "%s: %s\n", h[0], h[1])
		}
	case "curl":
		parts := []string{"curl", "-sS", "-X", method}
		for _, h := range headers {
			parts = append(parts, "-H", shellQuote(h[0]+": "+h[1]))
		}
		if body != nil {
			parts = append(parts, "--data-binary", shellQuote(string(body)))
		}
		parts = append(parts, shellQuote(fullURL))
		fmt.Fprintln(stdout, strings.Join(parts, " "))
	default:
		return fmt.Errorf("--output must be curl or headers, got %q", *output)
	}
	return nil
}

func readBody(data string) ([]byte, error) {
	switch {
	case data == "":
		return nil, nil
	case data == "@-":
		return io.ReadAll(os.Stdin)
	case strings.HasPrefix(data, "@"):
		return os.ReadFile(data[1:])
	}
	return []byte(data), nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
