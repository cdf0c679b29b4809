// Main runs one side as a process: its database from <SIDE>_DSN (mysql://user:password@host:port/database), its
// address from <SIDE>_ADDR (loopback by default), the coordinator from DTM_SERVER and the other side from PEER_URL.
package bank

import (
	"log"
	"os"
	"strings"
)

// Main serves side "out" (srv-a) or "in" (srv-b) until the process ends.
func Main(side Side, name string, defaultAddr string) {
	env := func(k, def string) string {
		if v := os.Getenv(strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_" + k); v != "" {
			return v
		}
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	dsn := env("DSN", "")
	if dsn == "" {
		log.Fatalf("%s: set %s_DSN=mysql://user:password@host:port/database", name, strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
	}
	s, err := Open(side, dsn)
	if err != nil {
		log.Fatalf("%s: database: %v", name, err)
	}
	addr := env("ADDR", defaultAddr)
	s.DtmServer = env("DTM_SERVER", "http://127.0.0.1:36789/api/dtmsvr")
	s.Self = "http://" + addr
	s.Peer = env("PEER_URL", "")
	log.Printf("%s (transfer %s) listening on %s", name, side, addr)
	log.Fatal(s.Router().Run(addr))
}
