// What the suite reads from the databases to judge a scenario: balances, the services' call logs (in call order across
// both databases), DTM's barrier rows and prepared XA transactions.
package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sagaflow/examples/gin-gorm/bank"
)

// user makes a fresh account on both sides: balance on srv-a, zero on srv-b.
func (s *suite) user(balanceA int64) int64 {
	id := s.users.Add(1)
	s.a.DB.Save(&bank.Account{UserID: id, Balance: balanceA})
	s.b.DB.Save(&bank.Account{UserID: id, Balance: 0})
	return id
}

// expectBalances checks both sides' balance and that nothing is left reserved.
func (s *suite) expectBalances(user, wantA, wantB int64) error {
	var a, b bank.Account
	if err := s.a.DB.First(&a, "user_id = ?", user).Error; err != nil {
		return err
	}
	if err := s.b.DB.First(&b, "user_id = ?", user).Error; err != nil {
		return err
	}
	if a.Balance != wantA || b.Balance != wantB || a.TradingBalance != 0 || b.TradingBalance != 0 {
		return fmt.Errorf("balances: srv-a %d (trading %d), srv-b %d (trading %d); want %d and %d",
			a.Balance, a.TradingBalance, b.Balance, b.TradingBalance, wantA, wantB)
	}
	return nil
}

type call struct {
	side, branchID, op, header string
	at                         time.Time
}

// calls are the requests both services logged for gid, in the order they arrived.
func (s *suite) calls(gid string) []call {
	var out []call
	for side, svc := range map[string]*bank.Service{"a": s.a, "b": s.b} {
		var rows []bank.Call
		svc.DB.Where("gid = ?", gid).Order("id").Find(&rows)
		for _, r := range rows {
			out = append(out, call{side, r.BranchID, r.Op, r.Header, r.At})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// branchesCalled lists the branch ids called with op, in call order (each branch once: retries collapse).
func branchesCalled(calls []call, op string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range calls {
		if c.op == op && !seen[c.branchID] {
			seen[c.branchID] = true
			out = append(out, c.branchID)
		}
	}
	return out
}

type barrierRow struct {
	BranchID, Op, BarrierID, Reason string
}

// barrier lists DTM's barrier rows of gid on one side as "branch:op:reason".
func barrier(svc *bank.Service, gid string) []string {
	var rows []barrierRow
	svc.DB.Raw("SELECT branch_id, op, barrier_id, reason FROM barrier WHERE gid = ? ORDER BY branch_id, op", gid).Scan(&rows)
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.BranchID+":"+r.Op+":"+r.Reason)
	}
	return out
}

// preparedXa lists the XA transactions still prepared on the server whose xid starts with gid.
func (s *suite) preparedXa(gid string) ([]string, error) {
	rows, err := s.a.SQLDB().Query("XA RECOVER")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var left []string
	for rows.Next() {
		var format, gl, bl int64
		var data []byte
		if err := rows.Scan(&format, &gl, &bl, &data); err != nil {
			return nil, err
		}
		if strings.HasPrefix(string(data), gid) {
			left = append(left, string(data))
		}
	}
	return left, rows.Err()
}

func contains(list []string, want ...string) error {
	have := map[string]bool{}
	for _, x := range list {
		have[x] = true
	}
	for _, w := range want {
		if !have[w] {
			return fmt.Errorf("want %q among %v", w, list)
		}
	}
	return nil
}

func equal(what string, got, want []string) error {
	if strings.Join(got, ",") != strings.Join(want, ",") {
		return fmt.Errorf("%s: got %v, want %v", what, got, want)
	}
	return nil
}

// first returns the first non-nil error.
func first(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
