// srv-a: money leaves here (transfer out / compensate, TCC try/confirm/cancel, XA) and 2-phase messages start here.
package main

import "github.com/sagaflow/examples/gin-gorm/bank"

func main() { bank.Main("out", "srv-a", "127.0.0.1:8081") }
