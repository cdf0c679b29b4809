// suite: DTM's own Go client (github.com/dtm-labs/client, unmodified) drives a DTM-protocol coordinator (DTM_SERVER,
// sagaflow's /api/dtmsvr) against srv-a and srv-b, served in this process on loopback ports over their own databases
// (A_DSN, B_DSN: mysql:// URLs, same server so call times compare). Every scenario runs under a watchdog (the client
// has no timeouts) and is judged by what the databases show: balances, DTM's barrier rows, the services' call logs,
// XA RECOVER. One JSON line per scenario on stdout: {"name","ok","detail","ms"}. SUITE_ONLY=a,b runs some.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sagaflow/examples/gin-gorm/bank"
)

type suite struct {
	server string
	a, b   *bank.Service
	urlA   string
	urlB   string
	users  atomic.Int64
}

type scenario struct {
	name string
	run  func(s *suite) error
}

func main() {
	server := os.Getenv("DTM_SERVER")
	if server == "" || os.Getenv("A_DSN") == "" || os.Getenv("B_DSN") == "" {
		log.Fatal("set DTM_SERVER, A_DSN and B_DSN")
	}
	s := &suite{server: server}
	s.users.Store(time.Now().UnixMilli() % 1_000_000_000 * 100)
	s.a, s.urlA = serve("out", os.Getenv("A_DSN"))
	s.b, s.urlB = serve("in", os.Getenv("B_DSN"))
	for _, svc := range []*bank.Service{s.a, s.b} {
		svc.DtmServer, svc.Peer = server, s.urlB
	}
	s.a.Self, s.b.Self = s.urlA, s.urlB

	only := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("SUITE_ONLY"), ",") {
		if n != "" {
			only[n] = true
		}
	}
	watchdog := 90 * time.Second
	failed := 0
	for _, sc := range scenarios {
		if len(only) > 0 && !only[sc.name] {
			continue
		}
		started := time.Now()
		err := withWatchdog(watchdog, func() error { return sc.run(s) })
		line := map[string]any{"name": sc.name, "ok": err == nil, "ms": time.Since(started).Milliseconds()}
		if err != nil {
			failed++
			line["detail"] = err.Error()
		}
		out, _ := json.Marshal(line)
		fmt.Println(string(out))
	}
	if failed > 0 {
		os.Exit(1)
	}
}

// serve opens a side's database and serves it on a free loopback port.
func serve(side bank.Side, dsn string) (*bank.Service, string) {
	svc, err := bank.Open(side, dsn)
	if err != nil {
		log.Fatalf("%s: %v", side, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = http.Serve(ln, svc.Router()) }()
	return svc, "http://" + ln.Addr().String()
}

// withWatchdog fails a scenario still running after d (its goroutine is abandoned; the process ends soon after).
func withWatchdog(d time.Duration, run func() error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("panic: %v", r)
			}
		}()
		done <- run()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("watchdog: still running after %s", d)
	}
}
