package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"iamd"
	"iamd/internal/servertest"
	"iamd/server"
)

// echoFace is the smallest face: it answers in a shape of its own so tests can tell the
// server used it.
type echoFace struct{ started, release chan struct{} }

func (echoFace) Name() string { return "echo" }

func (f echoFace) Register(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("POST "+prefix+"/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				f.WriteError(w, r, &iamd.Error{Code: iamd.ETOOLARGE, Message: "too large"})
				return
			}
			f.WriteError(w, r, err)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"len":%d,"source":%q}`, r.PathValue("id"), len(body), iamd.SourceFromContext(r.Context()))
	})
	mux.HandleFunc("GET "+prefix+"/scope", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Context().Value(scopeKey{}))
	})
	mux.HandleFunc("GET "+prefix+"/panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("GET "+prefix+"/wait-for-cancel", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		f.WriteError(w, r, r.Context().Err())
	})
	mux.HandleFunc("GET "+prefix+"/slow", func(w http.ResponseWriter, r *http.Request) {
		close(f.started)
		<-f.release
		io.WriteString(w, "done")
	})
}

func (echoFace) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status := map[string]int{iamd.ETOOLARGE: 413}[iamd.ErrorCode(err)]
	if status == 0 {
		status = 500
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"echo_error":%q}`, iamd.ErrorCode(err))
}

type logBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.String()
}

type running struct {
	addrs  map[string]string
	logs   *logBuffer
	stop   func() error
	face   echoFace
	ready  *error
	readyM *sync.Mutex
}

func start(t *testing.T) *running {
	t.Helper()
	logs := &logBuffer{}
	var readyErr error
	var mu sync.Mutex
	face := echoFace{started: make(chan struct{}), release: make(chan struct{})}
	srv, err := server.New(server.Config{
		Addr:      "127.0.0.1:0",
		Mounts:    []server.Mount{{Prefix: "/echo", Face: face}},
		FaceAddrs: map[string]string{"echo": "127.0.0.1:0"},
		Ready: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			return readyErr
		},
		Logger:          slog.New(slog.NewJSONHandler(logs, nil)),
		BodyLimit:       1024,
		ShutdownTimeout: 10 * time.Second,
		DebugAddr:       "127.0.0.1:0",
		RequestContext: func(ctx context.Context) context.Context {
			return context.WithValue(ctx, scopeKey{}, "scoped")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return &running{addrs: srv.Addrs(), logs: logs, stop: stop, face: face, ready: &readyErr, readyM: &mu}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOperationalEndpoints(t *testing.T) {
	r := start(t)
	base := "http://" + r.addrs["main"]
	if code, body := get(t, base+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d", code)
	}
	r.readyM.Lock()
	*r.ready = errors.New("database down")
	r.readyM.Unlock()
	if code, _ := get(t, base+"/readyz"); code != 503 {
		t.Fatalf("/readyz with the store down: %d, want 503", code)
	}

	resp, err := http.Post(base+"/echo/things/7?secret=hunter2", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code, metrics := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`iamd_http_requests_total{code="200",face="echo",route="POST /echo/things/{id}"} 1`,
		`iamd_http_request_duration_seconds_bucket{face="echo",route="POST /echo/things/{id}"`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(r.logs.String(), "hunter2") {
		t.Fatal("the request log carries the query string")
	}
	if !strings.Contains(r.logs.String(), `"route":"POST /echo/things/{id}"`) {
		t.Fatalf("the request log lacks the route: %s", r.logs.String())
	}
}

func TestProfilesAreServedOnlyOnTheDebugListener(t *testing.T) {
	r := start(t)
	if code, body := get(t, "http://"+r.addrs["debug"]+"/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("debug listener: %d %.200s", code, body)
	}
	for _, name := range []string{"main", "echo"} {
		if code, _ := get(t, "http://"+r.addrs[name]+"/debug/pprof/goroutine?debug=1"); code != 404 {
			t.Errorf("the %s listener answers /debug/pprof/ with %d, want 404", name, code)
		}
	}
}

func TestBodyLimitAnswersInTheFacesShape(t *testing.T) {
	r := start(t)
	for _, url := range []string{"http://" + r.addrs["main"] + "/echo/things/1", "http://" + r.addrs["echo"] + "/things/1"} {
		// Declared too large: refused before the face runs.
		resp, err := http.Post(url, "application/json", bytes.NewReader(make([]byte, 2048)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 || !strings.Contains(string(body), `"echo_error":"too_large"`) {
			t.Fatalf("%s with 2 KiB: %d %s", url, resp.StatusCode, body)
		}
		// Streamed without a length: the face's reader hits the limit.
		resp, err = http.Post(url, "application/json", io.MultiReader(strings.NewReader(strings.Repeat("x", 2048))))
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 || !strings.Contains(string(body), "too_large") {
			t.Fatalf("%s streamed: %d %s", url, resp.StatusCode, body)
		}
		// Within the limit, with the client address passed on for audit.
		resp, err = http.Post(url, "application/json", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			ID     string
			Len    int
			Source string
		}
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if got.ID != "1" || got.Len != 5 || got.Source != "127.0.0.1" {
			t.Fatalf("%s: %+v", url, got)
		}
	}
}

func TestPanicIsAnsweredAndLogged(t *testing.T) {
	r := start(t)
	code, body := get(t, "http://"+r.addrs["main"]+"/echo/panic")
	if code != 500 || !strings.Contains(body, `"echo_error":"internal"`) {
		t.Fatalf("panic: %d %s", code, body)
	}
	if !strings.Contains(r.logs.String(), "panic serving request") {
		t.Fatal("the panic was not logged")
	}
	if code, _ := get(t, "http://"+r.addrs["main"]+"/healthz"); code != 200 {
		t.Fatal("the server did not survive the panic")
	}
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	r := start(t)
	result := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + r.addrs["main"] + "/echo/slow")
		if err != nil {
			result <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- string(b)
	}()
	select {
	case <-r.face.started:
	case got := <-result:
		t.Fatalf("the slow request ended before its handler started: %q", got)
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request did not reach its handler within 10s")
	}
	stopErr := make(chan error, 1)
	go func() { stopErr <- r.stop() }()
	// Shutdown closes the listeners first; then the in-flight request may finish.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get("http://" + r.addrs["main"] + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			close(r.face.release)
			t.Fatal("the listener still answered 5s after shutdown began")
		}
	}
	close(r.face.release)
	select {
	case got := <-result:
		if got != "done" {
			t.Fatalf("in-flight request got %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request did not finish within 10s of its release")
	}
	select {
	case err := <-stopErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("shutdown did not return within 15s")
	}
}

func TestUnknownFaceAddrIsRefused(t *testing.T) {
	_, err := server.New(server.Config{Addr: "127.0.0.1:0", FaceAddrs: map[string]string{"nope": "127.0.0.1:0"}})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v", err)
	}
}

// A client that hangs up is no server error: its request is logged at info, marked.
func TestVanishedClientIsNotAnError(t *testing.T) {
	r := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+r.addrs["main"]+"/echo/wait-for-cancel", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the request was meant to be cut off")
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(r.logs.String(), "wait-for-cancel"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the cut-off request was not logged within 5s:\n%s", r.logs.String())
		}
	}
	for _, line := range strings.Split(r.logs.String(), "\n") {
		if strings.Contains(line, "wait-for-cancel") {
			if !strings.Contains(line, `"level":"INFO"`) || !strings.Contains(line, `"client_gone":true`) {
				t.Fatalf("a vanished client logged as: %s", line)
			}
			return
		}
	}
	t.Fatalf("the request was not logged:\n%s", r.logs.String())
}

type scopeKey struct{}

// Config.RequestContext derives the context of every request a face serves, on the main
// listener and on a face's own (iamd serve sets the store's read scope there).
func TestRequestContextReachesTheFaces(t *testing.T) {
	r := start(t)
	for _, url := range []string{"http://" + r.addrs["main"] + "/echo/scope", "http://" + r.addrs["echo"] + "/scope"} {
		if code, body := get(t, url); code != 200 || body != "scoped" {
			t.Errorf("GET %s: %d %q, want the derived context", url, code, body)
		}
	}
}

// A request whose deadline passes is the server's failure, logged at error level, and
// not mistaken for a client that went away; the client hears the answer.
func TestPassedDeadlineIsAnError(t *testing.T) {
	logs := &logBuffer{}
	face := echoFace{started: make(chan struct{}), release: make(chan struct{})}
	addrs := servertest.Serve(t, server.Config{
		Mounts:         []server.Mount{{Prefix: "/echo", Face: face}},
		Logger:         slog.New(slog.NewJSONHandler(logs, nil)),
		RequestTimeout: 200 * time.Millisecond,
	})
	start := time.Now()
	code, _ := get(t, addrs["main"]+"/echo/wait-for-cancel")
	if code != http.StatusInternalServerError || time.Since(start) > 5*time.Second {
		t.Fatalf("a request past its deadline: %d after %s", code, time.Since(start))
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), `"msg":"request"`); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the request was not logged:\n%s", logs.String())
		}
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"request"`) &&
			(!strings.Contains(line, `"level":"ERROR"`) || !strings.Contains(line, `"client_gone":false`)) {
			t.Errorf("a request past its deadline logged as: %s", line)
		}
	}
}
