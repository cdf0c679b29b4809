// Helpers for programs that drive the services through a coordinator: the coordinator's query endpoint, and
// setting up an account on a side over HTTP.
package bank

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

var httpClient = &http.Client{Timeout: 10 * time.Second}

// TransState is what the coordinator's GET query answers about a global transaction.
type TransState struct {
	Transaction *struct {
		Gid            string `json:"gid"`
		TransType      string `json:"trans_type"`
		Status         string `json:"status"`
		RollbackReason string `json:"rollback_reason"`
	} `json:"transaction"`
	Branches []struct {
		BranchID string `json:"branch_id"`
		Op       string `json:"op"`
		Status   string `json:"status"`
		URL      string `json:"url"`
	} `json:"branches"`
}

// Query asks the coordinator (DTM_SERVER) about gid.
func Query(server, gid string) (TransState, error) {
	var st TransState
	resp, err := httpClient.Get(server + "/query?gid=" + url.QueryEscape(gid))
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return st, fmt.Errorf("query answered %d", resp.StatusCode)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// WaitStatus polls the coordinator until gid is in a final status (succeed or failed) or timeout passes.
func WaitStatus(server, gid string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, err := Query(server, gid)
		if err == nil && st.Transaction != nil && (st.Transaction.Status == "succeed" || st.Transaction.Status == "failed") {
			return st.Transaction.Status, nil
		}
		if time.Now().After(deadline) {
			status := "unknown"
			if st.Transaction != nil {
				status = st.Transaction.Status
			}
			return status, fmt.Errorf("%s still %s after %s (%v)", gid, status, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// SetBalance creates or resets an account on a side (base URL of srv-a or srv-b).
func SetBalance(base string, userID, balance int64) error {
	body, _ := json.Marshal(map[string]int64{"balance": balance})
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/api/balance/%d", base, userID), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("set balance answered %d", resp.StatusCode)
	}
	return nil
}

// GetBalance reads an account on a side.
func GetBalance(base string, userID int64) (Account, error) {
	var a Account
	resp, err := httpClient.Get(fmt.Sprintf("%s/api/balance/%d", base, userID))
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return a, fmt.Errorf("balance answered %d", resp.StatusCode)
	}
	return a, json.NewDecoder(resp.Body).Decode(&a)
}
