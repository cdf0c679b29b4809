// The scenarios, each with DTM's Go client exactly as a Go service would use it, judged by the databases.
package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/dtm-labs/client/dtmcli"
	"github.com/go-resty/resty/v2"
	"github.com/sagaflow/examples/gin-gorm/bank"
)

const settle = 60 * time.Second

var scenarios = []scenario{
	{"saga-success", sagaSuccess},
	{"saga-failure-compensated-in-reverse", sagaFailure},
	{"saga-ongoing-then-success", sagaRetried("ONGOING_ONCE")},
	{"saga-500-then-success", sagaRetried("ERROR_ONCE")},
	{"saga-concurrent-orders", sagaConcurrent(false)},
	{"saga-concurrent-orders-failure", sagaConcurrent(true)},
	{"tcc-confirm", tcc(false)},
	{"tcc-try-failure-cancel", tcc(true)},
	{"msg-submit", msgSubmit(false)},
	{"msg-local-rolled-back", msgSubmit(true)},
	{"msg-backcheck-committed", msgBackCheck(true)},
	{"msg-backcheck-rolled-back", msgBackCheck(false)},
	{"xa-commit", xa(false)},
	{"xa-rollback", xa(true)},
	{"wait-result-success", waitResult(false)},
	{"wait-result-failure", waitResult(true)},
	{"duplicate-submit", duplicateSubmit},
	{"branch-headers", branchHeaders},
	{"query-after-success", queryAfterSuccess},
}

func req(user, amount int64, result string) bank.TransReq {
	return bank.TransReq{UserID: user, Amount: amount, Result: result}
}

// transfer is a two-branch saga: out of srv-a, into srv-b.
func (s *suite) transfer(user, amount int64, inResult string) *dtmcli.Saga {
	return dtmcli.NewSaga(s.server, dtmcli.MustGenGid(s.server)).
		Add(s.urlA+"/api/trans-out", s.urlA+"/api/trans-out-compensate", req(user, amount, "")).
		Add(s.urlB+"/api/trans-in", s.urlB+"/api/trans-in-compensate", req(user, amount, inResult))
}

func (s *suite) expectStatus(gid, want string) error {
	got, err := bank.WaitStatus(s.server, gid, settle)
	if err == nil && got != want {
		err = fmt.Errorf("%s ended %s, want %s", gid, got, want)
	}
	return err
}

func sagaSuccess(s *suite) error {
	u := s.user(1000)
	saga := s.transfer(u, 30, "")
	if err := saga.Submit(); err != nil {
		return err
	}
	return first(s.expectStatus(saga.Gid, "succeed"), s.expectBalances(u, 970, 30))
}

// A three-branch saga whose last action fails: every branch is compensated, last first, the failed one included (its
// compensation finds nothing to undo: DTM's null compensation, visible in its barrier rows).
func sagaFailure(s *suite) error {
	u := s.user(1000)
	saga := dtmcli.NewSaga(s.server, dtmcli.MustGenGid(s.server)).
		Add(s.urlA+"/api/trans-out", s.urlA+"/api/trans-out-compensate", req(u, 30, "")).
		Add(s.urlB+"/api/trans-in", s.urlB+"/api/trans-in-compensate", req(u, 30, "")).
		Add(s.urlA+"/api/trans-out", s.urlA+"/api/trans-out-compensate", req(u, 40, "FAILURE"))
	if err := saga.Submit(); err != nil {
		return err
	}
	return first(
		s.expectStatus(saga.Gid, "failed"),
		s.expectBalances(u, 1000, 0),
		equal("compensations in call order", branchesCalled(s.calls(saga.Gid), "compensate"), []string{"03", "02", "01"}),
		contains(barrier(s.a, saga.Gid), "03:action:compensate", "03:compensate:compensate", "01:action:action", "01:compensate:compensate"),
	)
}

// Concurrent saga: branch 2 (id 03) runs after branches 0 and 1; when it fails, it is compensated before them.
func sagaConcurrent(fail bool) func(s *suite) error {
	return func(s *suite) error {
		u := s.user(1000)
		result := ""
		if fail {
			result = "FAILURE"
		}
		saga := dtmcli.NewSaga(s.server, dtmcli.MustGenGid(s.server)).
			Add(s.urlA+"/api/trans-out", s.urlA+"/api/trans-out-compensate", req(u, 30, "")).
			Add(s.urlB+"/api/trans-in", s.urlB+"/api/trans-in-compensate", req(u, 10, "")).
			Add(s.urlB+"/api/trans-in", s.urlB+"/api/trans-in-compensate", req(u, 20, result)).
			SetConcurrent().AddBranchOrder(2, []int{0, 1})
		if err := saga.Submit(); err != nil {
			return err
		}
		want, wantA, wantB := "succeed", int64(970), int64(30)
		if fail {
			want, wantA, wantB = "failed", 1000, 0
		}
		if err := first(s.expectStatus(saga.Gid, want), s.expectBalances(u, wantA, wantB)); err != nil {
			return err
		}
		actions := branchesCalled(s.calls(saga.Gid), "action")
		if len(actions) != 3 || actions[2] != "03" {
			return fmt.Errorf("actions in call order %v: 03 must come after 01 and 02", actions)
		}
		if !fail {
			return nil
		}
		undone := branchesCalled(s.calls(saga.Gid), "compensate")
		if len(undone) != 3 || undone[0] != "03" {
			return fmt.Errorf("compensations in call order %v: 03 (the failed one) first, then 01 and 02", undone)
		}
		return contains(barrier(s.b, saga.Gid), "03:compensate:compensate", "03:action:compensate")
	}
}

func tcc(failTry bool) func(s *suite) error {
	return func(s *suite) error {
		u := s.user(1000)
		gid := dtmcli.MustGenGid(s.server)
		inResult := ""
		if failTry {
			inResult = "FAILURE"
		}
		err := dtmcli.TccGlobalTransaction(s.server, gid, func(t *dtmcli.Tcc) (*resty.Response, error) {
			if resp, err := t.CallBranch(req(u, 30, ""), s.urlA+"/api/trans-out-try", s.urlA+"/api/trans-out-confirm", s.urlA+"/api/trans-out-cancel"); err != nil {
				return resp, err
			}
			return t.CallBranch(req(u, 30, inResult), s.urlB+"/api/trans-in-try", s.urlB+"/api/trans-in-confirm", s.urlB+"/api/trans-in-cancel")
		})
		if !failTry {
			return first(err, s.expectStatus(gid, "succeed"), s.expectBalances(u, 970, 30))
		}
		if err == nil {
			return errors.New("a failed try must fail the TCC")
		}
		return first(s.expectStatus(gid, "failed"), s.expectBalances(u, 1000, 0),
			contains(branchesCalled(s.calls(gid), "cancel"), "01", "02"),
			contains(barrier(s.b, gid), "02:cancel:cancel", "02:try:cancel"))
	}
}

func msgSubmit(failLocal bool) func(s *suite) error {
	return func(s *suite) error {
		u := s.user(1000)
		gid := dtmcli.MustGenGid(s.server)
		body, _ := json.Marshal(bank.MsgReq{Gid: gid, FromUser: u, ToUser: u, Amount: 30, FailLocal: failLocal})
		resp, err := http.Post(s.urlA+"/api/transfer-msg", "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if !failLocal {
			if resp.StatusCode != 200 {
				return fmt.Errorf("srv-a answered %d", resp.StatusCode)
			}
			return first(s.expectStatus(gid, "succeed"), s.expectBalances(u, 970, 30),
				contains(barrier(s.a, gid), "00:msg:msg"))
		}
		if resp.StatusCode != 409 {
			return fmt.Errorf("srv-a answered %d to a rolled-back local transaction, want 409", resp.StatusCode)
		}
		return first(s.expectStatus(gid, "failed"), s.expectBalances(u, 1000, 0),
			equal("calls to srv-b", branchesCalled(s.calls(gid), "action"), nil))
	}
}

// A message prepared and never submitted (its sender died): the coordinator's back-check decides. Committed local
// transaction → delivered; none → failed, and the back-check's barrier row refuses a late local transaction.
func msgBackCheck(committed bool) func(s *suite) error {
	return func(s *suite) error {
		u := s.user(1000)
		msg := dtmcli.NewMsg(s.server, dtmcli.MustGenGid(s.server)).Add(s.urlB+"/api/trans-in", req(u, 30, ""))
		msg.TimeoutToFail = 2
		if err := msg.Prepare(s.urlA + "/api/query-prepared"); err != nil {
			return err
		}
		bb, _ := dtmcli.BarrierFrom("msg", msg.Gid, "00", "msg")
		debit := func() error {
			tx := s.a.DB.Begin()
			return bb.Call(tx.Statement.ConnPool.(*sql.Tx), func(*sql.Tx) error {
				return tx.Exec("UPDATE accounts SET balance = balance - 30 WHERE user_id = ?", u).Error
			})
		}
		if committed {
			if err := debit(); err != nil {
				return err
			}
			return first(s.expectStatus(msg.Gid, "succeed"), s.expectBalances(u, 970, 30),
				contains(branchesCalled(s.calls(msg.Gid), "msg"), "00"))
		}
		if err := first(s.expectStatus(msg.Gid, "failed"), contains(barrier(s.a, msg.Gid), "00:msg:rollback")); err != nil {
			return err
		}
		bb.BarrierID = 0
		if err := debit(); !errors.Is(err, dtmcli.ErrDuplicated) {
			return fmt.Errorf("a local transaction after a rolled-back back-check must be refused, got %v", err)
		}
		return s.expectBalances(u, 1000, 0)
	}
}

func xa(fail bool) func(s *suite) error {
	return func(s *suite) error {
		u := s.user(1000)
		gid := dtmcli.MustGenGid(s.server)
		inResult := ""
		if fail {
			inResult = "FAILURE"
		}
		err := dtmcli.XaGlobalTransaction(s.server, gid, func(x *dtmcli.Xa) (*resty.Response, error) {
			if resp, err := x.CallBranch(req(u, 30, ""), s.urlA+"/api/trans-out-xa"); err != nil {
				return resp, err
			}
			return x.CallBranch(req(u, 30, inResult), s.urlB+"/api/trans-in-xa")
		})
		want, wantA, wantB := "succeed", int64(970), int64(30)
		if fail {
			want, wantA, wantB = "failed", 1000, 0
			if err == nil {
				return errors.New("a failed XA branch must fail the global transaction")
			}
		} else if err != nil {
			return err
		}
		if err := first(s.expectStatus(gid, want), s.expectBalances(u, wantA, wantB)); err != nil {
			return err
		}
		left, err := s.preparedXa(gid)
		if err == nil && len(left) > 0 {
			err = fmt.Errorf("still prepared in XA RECOVER: %v", left)
		}
		return err
	}
}

// wait_result: Submit answers after the transaction ended, so the databases show the outcome the moment it returns.
func waitResult(fail bool) func(s *suite) error {
	return func(s *suite) error {
		u := s.user(1000)
		inResult := ""
		if fail {
			inResult = "FAILURE"
		}
		saga := s.transfer(u, 30, inResult)
		saga.WaitResult = true
		err := saga.Submit()
		if !fail {
			return first(err, s.expectBalances(u, 970, 30))
		}
		if err == nil {
			return errors.New("submit with wait_result of a failing saga must return an error")
		}
		return s.expectBalances(u, 1000, 0)
	}
}

// A branch answering 425 ONGOING (retried at the retry interval) or 500 (retried with the interval doubled) is called
// again, and then succeeds.
func sagaRetried(firstAnswer string) func(s *suite) error {
	return func(s *suite) error {
		u := s.user(1000)
		saga := s.transfer(u, 30, firstAnswer)
		saga.RetryInterval = 1
		if err := saga.Submit(); err != nil {
			return err
		}
		return first(s.expectStatus(saga.Gid, "succeed"), s.expectBalances(u, 970, 30),
			equal("actions of 02", actionsOf(s.calls(saga.Gid), "02"), []string{"action", "action"}))
	}
}

func actionsOf(calls []call, branchID string) []string {
	var out []string
	for _, c := range calls {
		if c.branchID == branchID && c.op == "action" {
			out = append(out, c.op)
		}
	}
	return out
}

// The saga's transfer-in answers ONGOING once (the coordinator retries it a second later), so the second submit
// meets a saga still running: harmless. A submit after it ended is refused.
func duplicateSubmit(s *suite) error {
	u := s.user(1000)
	saga := s.transfer(u, 30, "ONGOING_ONCE")
	saga.RetryInterval = 1
	if err := saga.Submit(); err != nil {
		return err
	}
	if err := saga.Submit(); err != nil {
		return fmt.Errorf("re-submit of a submitted saga must be harmless: %v", err)
	}
	if err := first(s.expectStatus(saga.Gid, "succeed"), s.expectBalances(u, 970, 30)); err != nil {
		return err
	}
	if err := saga.Submit(); err == nil {
		return errors.New("submit of a finished saga must be refused")
	}
	return s.expectBalances(u, 970, 30)
}

func branchHeaders(s *suite) error {
	u := s.user(1000)
	saga := s.transfer(u, 30, "")
	saga.BranchHeaders = map[string]string{bank.TraceHeader: "h-" + saga.Gid}
	saga.WaitResult = true
	if err := saga.Submit(); err != nil {
		return err
	}
	calls := s.calls(saga.Gid)
	if len(calls) < 2 {
		return fmt.Errorf("calls: %v", calls)
	}
	for _, c := range calls {
		if c.header != "h-"+saga.Gid {
			return fmt.Errorf("branch %s %s came with header %q", c.branchID, c.op, c.header)
		}
	}
	return s.expectBalances(u, 970, 30)
}

func queryAfterSuccess(s *suite) error {
	u := s.user(1000)
	saga := s.transfer(u, 30, "")
	saga.WaitResult = true
	if err := saga.Submit(); err != nil {
		return err
	}
	st, err := bank.Query(s.server, saga.Gid)
	if err != nil {
		return err
	}
	if st.Transaction == nil || st.Transaction.Gid != saga.Gid || st.Transaction.Status != "succeed" || st.Transaction.TransType != "saga" {
		return fmt.Errorf("query: %+v", st.Transaction)
	}
	var done []string
	for _, b := range st.Branches {
		if b.Op == "action" && b.Status == "succeed" {
			done = append(done, b.BranchID)
		}
	}
	return first(equal("succeeded actions", done, []string{"01", "02"}), s.expectBalances(u, 970, 30))
}
