// submit: drives srv-a and srv-b through a DTM-protocol coordinator (sagaflow by default: DTM_SERVER) with DTM's own Go
// client: a saga, a saga that fails and is compensated, a TCC and a 2-phase message, one user moving money from srv-a
// to srv-b; prints each result and the balances, and a last line `RESULT {...}` for scripts.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/dtm-labs/client/dtmcli"
	"github.com/go-resty/resty/v2"
	"github.com/sagaflow/examples/gin-gorm/bank"
)

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

var (
	server = env("DTM_SERVER", "http://127.0.0.1:36789/api/dtmsvr")
	srvA   = env("SRV_A_URL", "http://127.0.0.1:8081")
	srvB   = env("SRV_B_URL", "http://127.0.0.1:8082")
)

const start = 10_000

func main() {
	user := time.Now().UnixMilli() % 1_000_000_000
	must(bank.SetBalance(srvA, user, start), "account on srv-a")
	must(bank.SetBalance(srvB, user, 0), "account on srv-b")
	fmt.Printf("coordinator %s; user %d: srv-a %d, srv-b 0\n", server, user, start)
	req := bank.TransReq{UserID: user, Amount: 30}

	gid := dtmcli.MustGenGid(server)
	saga := dtmcli.NewSaga(server, gid).
		Add(srvA+"/api/trans-out", srvA+"/api/trans-out-compensate", req).
		Add(srvB+"/api/trans-in", srvB+"/api/trans-in-compensate", req)
	saga.WaitResult = true
	report("saga (30)", gid, saga.Submit())

	gid = dtmcli.MustGenGid(server)
	failing := bank.TransReq{UserID: user, Amount: 30, Result: "FAILURE"}
	saga = dtmcli.NewSaga(server, gid).
		Add(srvA+"/api/trans-out", srvA+"/api/trans-out-compensate", req).
		Add(srvB+"/api/trans-in", srvB+"/api/trans-in-compensate", failing)
	saga.WaitResult = true
	report("saga whose transfer-in fails (compensated)", gid, saga.Submit())

	gid = dtmcli.MustGenGid(server)
	tcc := bank.TransReq{UserID: user, Amount: 20}
	err := dtmcli.TccGlobalTransaction2(server, gid, func(t *dtmcli.Tcc) { t.WaitResult = true }, func(t *dtmcli.Tcc) (*resty.Response, error) {
		if resp, err := t.CallBranch(tcc, srvA+"/api/trans-out-try", srvA+"/api/trans-out-confirm", srvA+"/api/trans-out-cancel"); err != nil {
			return resp, err
		}
		return t.CallBranch(tcc, srvB+"/api/trans-in-try", srvB+"/api/trans-in-confirm", srvB+"/api/trans-in-cancel")
	})
	report("tcc (20)", gid, err)

	gid = dtmcli.MustGenGid(server)
	body, _ := json.Marshal(bank.MsgReq{Gid: gid, FromUser: user, ToUser: user, Amount: 10})
	resp, err := http.Post(srvA+"/api/transfer-msg", "application/json", bytes.NewReader(body))
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("srv-a answered %d", resp.StatusCode)
	}
	if err == nil {
		_, err = bank.WaitStatus(server, gid, 60*time.Second)
	}
	report("2-phase message (10)", gid, err)

	a, errA := bank.GetBalance(srvA, user)
	b, errB := bank.GetBalance(srvB, user)
	must(errA, "balance on srv-a")
	must(errB, "balance on srv-b")
	fmt.Printf("balances: srv-a %d (trading %d), srv-b %d (trading %d); expected srv-a %d, srv-b %d\n",
		a.Balance, a.TradingBalance, b.Balance, b.TradingBalance, start-60, 60)
	out, _ := json.Marshal(map[string]int64{"user": user, "a": a.Balance, "b": b.Balance, "expected_a": start - 60, "expected_b": 60})
	fmt.Printf("RESULT %s\n", out)
	if a.Balance != start-60 || b.Balance != 60 || a.TradingBalance != 0 || b.TradingBalance != 0 {
		os.Exit(1)
	}
}

func report(what, gid string, err error) {
	status, qerr := bank.WaitStatus(server, gid, 60*time.Second)
	if qerr != nil {
		status = qerr.Error()
	}
	result := "ok"
	if err != nil {
		result = "error: " + err.Error()
	}
	fmt.Printf("%-44s gid %s: client %s; coordinator says %s\n", what, gid, result, status)
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		os.Exit(2)
	}
}
