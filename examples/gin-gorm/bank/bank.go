// Package bank is one side of a transfer, served by Gin on its own MySQL/MariaDB database through GORM: srv-a is the
// "out" side (money leaves a user's account there), srv-b the "in" side. Every branch route follows the DTM protocol
// and runs its write behind the DTM Go client's barrier, so a coordinator (sagaflow, or DTM itself) may call it twice,
// late, or compensate what never ran: saga action/compensate, TCC try/confirm/cancel, XA and a 2-phase message.
package bank

import (
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dtm-labs/client/dtmcli"
	"github.com/gin-gonic/gin"
	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Account is a user's balance on this side. TradingBalance holds what a TCC try has reserved and not yet confirmed.
type Account struct {
	UserID         int64 `gorm:"primaryKey;autoIncrement:false" json:"user_id"`
	Balance        int64 `gorm:"not null" json:"balance"`
	TradingBalance int64 `gorm:"not null;default:0" json:"trading_balance"`
}

// Call is one request a coordinator made to this service, logged before the barrier decides anything (the order of
// calls, compensations of nothing included, and the headers they carried; tests judge by it).
type Call struct {
	ID       int64     `gorm:"primaryKey"`
	Gid      string    `gorm:"size:128;index"`
	BranchID string    `gorm:"size:128"`
	Op       string    `gorm:"size:45"`
	Path     string    `gorm:"size:128"`
	Header   string    `gorm:"size:128"`
	At       time.Time `gorm:"type:datetime(6);default:CURRENT_TIMESTAMP(6)"`
}

// TransReq is a branch's payload. Result "FAILURE" makes the write fail as a business rejection (after it wrote, so the
// rollback is real); "ONGOING" answers 425; "ONGOING_ONCE" answers 425 and
// "ERROR_ONCE" 500 to the first call only.
type TransReq struct {
	UserID int64  `json:"user_id"`
	Amount int64  `json:"amount"`
	Result string `json:"result,omitempty"`
}

// Side is "out" (srv-a: amounts leave) or "in" (srv-b: amounts arrive).
type Side string

// Service is one side's database and configuration.
type Service struct {
	Side   Side
	DB     *gorm.DB
	DBConf dtmcli.DBConf
	// DtmServer is the coordinator's URL (http://host:port/api/dtmsvr), for the 2-phase message srv-a starts.
	DtmServer string
	// Self is this service's base URL (http://127.0.0.1:port), for the back-check URL it gives the coordinator.
	Self string
	// Peer is the other side's base URL (srv-b for srv-a), the 2-phase message's branch.
	Peer string
}

// TraceHeader is the header the tests ask the coordinator to send to every branch (branch_headers).
const TraceHeader = "X-Sagaflow-Test"

// ParseDSN turns a mysql:// URL (sagaflow's form) into the DTM client's DBConf.
func ParseDSN(raw string) (dtmcli.DBConf, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "mysql" {
		return dtmcli.DBConf{}, fmt.Errorf("want mysql://user:password@host:port/database")
	}
	port, _ := strconv.ParseInt(u.Port(), 10, 64)
	if port == 0 {
		port = 3306
	}
	pw, _ := u.User.Password()
	return dtmcli.DBConf{Driver: "mysql", Host: u.Hostname(), Port: port, User: u.User.Username(), Password: pw, Db: strings.TrimPrefix(u.Path, "/")}, nil
}

// GoDSN is the go-sql-driver form of a DBConf.
func GoDSN(c dtmcli.DBConf) string {
	cfg := mysqldriver.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = c.User, c.Password, "tcp", fmt.Sprintf("%s:%d", c.Host, c.Port), c.Db
	cfg.ParseTime = true
	cfg.InterpolateParams = true
	return cfg.FormatDSN()
}

// Open connects to the side's database and creates its tables: accounts, the call log and DTM's barrier table (in this
// database, so the barrier rows commit with the business rows).
func Open(side Side, dsn string) (*Service, error) {
	conf, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(mysql.Open(GoDSN(conf)), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		return nil, err
	}
	if err := db.AutoMigrate(&Account{}, &Call{}); err != nil {
		return nil, err
	}
	if err := db.Exec(BarrierDDL).Error; err != nil {
		return nil, err
	}
	dtmcli.SetBarrierTableName("barrier")
	return &Service{Side: side, DB: db, DBConf: conf}, nil
}

// BarrierDDL is DTM's barrier table (sqls/dtmcli.barrier.mysql.sql in dtm-labs/dtm), in the service's own database.
const BarrierDDL = `CREATE TABLE IF NOT EXISTS barrier (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  trans_type VARCHAR(45) DEFAULT '',
  gid VARCHAR(128) DEFAULT '',
  branch_id VARCHAR(128) DEFAULT '',
  op VARCHAR(45) DEFAULT '',
  barrier_id VARCHAR(45) DEFAULT '',
  reason VARCHAR(45) DEFAULT '',
  create_time DATETIME DEFAULT NOW(),
  update_time DATETIME DEFAULT NOW(),
  KEY (create_time),
  KEY (update_time),
  UNIQUE KEY uniq_barrier (gid, branch_id, op, barrier_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`

// SQLDB is the service's *sql.DB (for the barrier's CallWithDB and back-checks).
func (s *Service) SQLDB() *sql.DB {
	db, _ := s.DB.DB()
	return db
}

// sign is +1 where money arrives, -1 where it leaves.
func (s *Service) sign() int64 {
	if s.Side == "in" {
		return 1
	}
	return -1
}

// Router serves the side's branches under /api/trans-<side>…, a balance read and (srv-a) the 2-phase message start.
func (s *Service) Router() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), s.logCall)
	p := "/api/trans-" + string(s.Side)
	r.POST(p, s.sagaAction)
	r.POST(p+"-compensate", s.sagaCompensate)
	r.POST(p+"-try", s.tccTry)
	r.POST(p+"-confirm", s.tccConfirm)
	r.POST(p+"-cancel", s.tccCancel)
	r.POST(p+"-xa", s.xa)
	r.GET("/api/query-prepared", s.queryPrepared)
	r.POST("/api/transfer-msg", s.transferMsg)
	r.GET("/api/balance/:user", s.balance)
	r.PUT("/api/balance/:user", s.setBalance)
	return r
}

// logCall records every call that names a global transaction, in its own autocommit insert.
func (s *Service) logCall(c *gin.Context) {
	if gid := c.Query("gid"); gid != "" {
		s.DB.Create(&Call{Gid: gid, BranchID: c.Query("branch_id"), Op: c.Query("op"), Path: c.FullPath(), Header: c.GetHeader(TraceHeader)})
	}
	c.Next()
}

func (s *Service) balance(c *gin.Context) {
	var a Account
	if err := s.DB.First(&a, "user_id = ?", c.Param("user")).Error; err != nil {
		c.JSON(404, gin.H{"message": "no such account"})
		return
	}
	c.JSON(200, a)
}

// setBalance creates or resets an account (setting up a demo or a test; not a branch).
func (s *Service) setBalance(c *gin.Context) {
	var body struct {
		Balance int64 `json:"balance"`
	}
	id, err := strconv.ParseInt(c.Param("user"), 10, 64)
	if err != nil || c.ShouldBindJSON(&body) != nil || body.Balance < 0 {
		c.JSON(400, gin.H{"message": "bad account"})
		return
	}
	a := Account{UserID: id, Balance: body.Balance}
	if err := s.DB.Save(&a).Error; err != nil {
		c.JSON(500, gin.H{"message": "database error"})
		return
	}
	c.JSON(200, a)
}
