// srv-b: money arrives here (transfer in / compensate, TCC try/confirm/cancel, XA, the 2-phase message's branch).
package main

import "github.com/sagaflow/examples/gin-gorm/bank"

func main() { bank.Main("in", "srv-b", "127.0.0.1:8082") }
