// The branch handlers: each reads the branch from DTM's query parameters, opens a GORM transaction and runs its write
// through the DTM client's barrier on that transaction's *sql.Tx (barrier rows and balance change commit together).
package bank

import (
	"database/sql"
	"encoding/json"
	"errors"
	"io"

	"github.com/dtm-labs/client/dtmcli"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
)

// answer maps a branch's error to DTM's HTTP answers: nil 200 SUCCESS, ErrFailure 409, ErrOngoing 425, other 500.
func answer(c *gin.Context, err error) {
	code, body := dtmcli.Result2HttpJSON(err)
	c.JSON(code, body)
}

func readReq(c *gin.Context) (TransReq, error) {
	var req TransReq
	raw, err := io.ReadAll(c.Request.Body)
	if err == nil && len(raw) > 0 {
		err = json.Unmarshal(raw, &req)
	}
	return req, err
}

// guarded runs write once behind the barrier. A forward operation (action, try) whose payload asks for FAILURE or
// ONGOING writes first and then fails, so the rollback of the write and of its barrier row is real.
func (s *Service) guarded(c *gin.Context, write func(tx *gorm.DB, req TransReq) error) {
	req, err := readReq(c)
	if err != nil {
		c.JSON(400, gin.H{"message": "bad payload"})
		return
	}
	bb, err := dtmcli.BarrierFromQuery(c.Request.URL.Query())
	if err != nil {
		c.JSON(400, gin.H{"message": "gid, trans_type, branch_id and op are required"})
		return
	}
	tx := s.DB.Begin()
	err = bb.Call(tx.Statement.ConnPool.(*sql.Tx), func(*sql.Tx) error {
		if err := write(tx, req); err != nil {
			return err
		}
		if bb.Op == "action" || bb.Op == "try" {
			switch req.Result {
			case "FAILURE":
				return dtmcli.ErrFailure
			case "ONGOING":
				return dtmcli.ErrOngoing
			case "ONGOING_ONCE":
				if s.callsOf(bb) < 2 {
					return dtmcli.ErrOngoing
				}
			case "ERROR_ONCE":
				if s.callsOf(bb) < 2 {
					return errors.New("unavailable")
				}
			}
		}
		return nil
	})
	answer(c, err)
}

// callsOf counts the calls logged for the branch operation (this one included).
func (s *Service) callsOf(bb *dtmcli.BranchBarrier) int64 {
	var n int64
	s.DB.Model(&Call{}).Where("gid = ? AND branch_id = ? AND op = ?", bb.Gid, bb.BranchID, bb.Op).Count(&n)
	return n
}

// adjust moves balance (and trading balance) of one account by delta; money never goes below zero.
func adjust(tx *gorm.DB, userID, balance, trading int64) error {
	res := tx.Model(&Account{}).Where("user_id = ? AND balance + ? >= 0 AND balance + trading_balance + ? + ? >= 0", userID, balance, balance, trading).
		Updates(map[string]any{"balance": gorm.Expr("balance + ?", balance), "trading_balance": gorm.Expr("trading_balance + ?", trading)})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errors.Join(dtmcli.ErrFailure, errors.New("insufficient balance"))
	}
	return nil
}

// Saga: the action moves the money, the compensation moves it back.
func (s *Service) sagaAction(c *gin.Context) {
	s.guarded(c, func(tx *gorm.DB, r TransReq) error { return adjust(tx, r.UserID, s.sign()*r.Amount, 0) })
}

func (s *Service) sagaCompensate(c *gin.Context) {
	s.guarded(c, func(tx *gorm.DB, r TransReq) error { return adjust(tx, r.UserID, -s.sign()*r.Amount, 0) })
}

// TCC: try reserves in trading_balance (checked against the balance), confirm applies it, cancel releases it.
func (s *Service) tccTry(c *gin.Context) {
	s.guarded(c, func(tx *gorm.DB, r TransReq) error { return adjust(tx, r.UserID, 0, s.sign()*r.Amount) })
}

func (s *Service) tccConfirm(c *gin.Context) {
	s.guarded(c, func(tx *gorm.DB, r TransReq) error {
		return adjust(tx, r.UserID, s.sign()*r.Amount, -s.sign()*r.Amount)
	})
}

func (s *Service) tccCancel(c *gin.Context) {
	s.guarded(c, func(tx *gorm.DB, r TransReq) error { return adjust(tx, r.UserID, 0, -s.sign()*r.Amount) })
}

// XA: the action runs inside a local XA transaction left prepared (and registers its phase-2 URL, this route, with the
// coordinator); op=commit / op=rollback finish it.
func (s *Service) xa(c *gin.Context) {
	req, err := readReq(c)
	if err != nil {
		c.JSON(400, gin.H{"message": "bad payload"})
		return
	}
	answer(c, dtmcli.XaLocalTransaction(c.Request.URL.Query(), s.DBConf, func(db *sql.DB, _ *dtmcli.Xa) error {
		if req.Result == "FAILURE" {
			return dtmcli.ErrFailure
		}
		res, err := db.Exec("UPDATE accounts SET balance = balance + ? WHERE user_id = ? AND balance + ? >= 0", s.sign()*req.Amount, req.UserID, s.sign()*req.Amount)
		if err == nil {
			if n, _ := res.RowsAffected(); n == 0 {
				err = dtmcli.ErrFailure
			}
		}
		return err
	}))
}

// queryPrepared is the 2-phase message's back-check: 200 when the local transaction committed, 409 when it did not
// (and now never will).
func (s *Service) queryPrepared(c *gin.Context) {
	bb, err := dtmcli.BarrierFromQuery(c.Request.URL.Query())
	if err == nil {
		err = bb.QueryPrepared(s.SQLDB())
	}
	answer(c, err)
}

// MsgReq asks srv-a to send money to srv-b with a 2-phase message: the debit here is the local transaction, the credit
// at srv-b the message's branch. FailLocal rolls the local transaction back (the message is then aborted).
type MsgReq struct {
	Gid       string `json:"gid"`
	FromUser  int64  `json:"from_user"`
	ToUser    int64  `json:"to_user"`
	Amount    int64  `json:"amount"`
	FailLocal bool   `json:"fail_local,omitempty"`
}

func (s *Service) transferMsg(c *gin.Context) {
	var req MsgReq
	if err := c.ShouldBindJSON(&req); err != nil || req.Gid == "" {
		c.JSON(400, gin.H{"message": "bad payload"})
		return
	}
	msg := dtmcli.NewMsg(s.DtmServer, req.Gid).Add(s.Peer+"/api/trans-in", TransReq{UserID: req.ToUser, Amount: req.Amount})
	err := msg.DoAndSubmit(s.Self+"/api/query-prepared", func(bb *dtmcli.BranchBarrier) error {
		tx := s.DB.Begin()
		return bb.Call(tx.Statement.ConnPool.(*sql.Tx), func(*sql.Tx) error {
			if req.FailLocal {
				return dtmcli.ErrFailure
			}
			return adjust(tx, req.FromUser, -req.Amount, 0)
		})
	})
	answer(c, err)
}
