#!/usr/bin/env python3
# DTM's Python client (dtmcli 1.7.7.0, unmodified) driving sagaflow's coordinator: one scenario per run, its arguments
# as one JSON argument, its outcome as one JSON line. The participants are the test's HTTP servers; a 2-phase
# message's local transaction is written here with pymysql, with DTM's barrier row for branch 00 / op msg (dtmcli's
# own BranchBarrier names the `dtm_barrier` database, which the test's database user cannot create).
import json
import sys

import pymysql
from dtmcli import msg, saga, tcc, utils


def options(trans_base, a):
    trans_base.retry_interval = 1
    trans_base.wait_result = a.get("wait_result", False)
    trans_base.branch_headers = a.get("headers", {})
    trans_base.timeout_to_fail = a.get("timeout_to_fail", 0)


def run_saga(a):
    s = saga.Saga(a["dtm"], a["gid"])
    for step in a["steps"]:
        s.add(step, a["part"] + "/saga", a["part"] + "/saga")
    options(s.trans_base, a)
    if a.get("orders"):
        # dtmcli 1.7.7.0 never initialises these two attributes that set_concurrent/submit read.
        s.orders = {}
        s.concurrent = True
        s.set_concurrent()
        for branch, before in a["orders"].items():
            s.add_branch_order(int(branch), before)
    s.submit()
    if a.get("submit_twice"):
        s.submit()
    return a["gid"]


def run_tcc(a):
    def body(t):
        for step in a["steps"]:
            t.call_branch(step, a["part"] + "/tcc", a["part"] + "/tcc", a["part"] + "/tcc")

    return tcc.tcc_global_transaction(a["dtm"], a["gid"], body)


def local_transaction(a, commit):
    db = a["db"]
    conn = pymysql.connect(host=db["host"], port=db["port"], user=db["user"], password=db["password"], database=db["database"], autocommit=False)
    try:
        with conn.cursor() as cur:
            n = cur.execute(
                "insert ignore into barrier(trans_type, gid, branch_id, op, barrier_id, reason) values('msg', %s, '00', 'msg', '01', 'msg')",
                (a["gid"],),
            )
            if n == 0:
                raise utils.DTMFailureError("msg duplicate")
            cur.execute(
                "insert into accounts(user_id, balance) values(%s, %s) on duplicate key update balance = balance + values(balance)",
                (a["local"]["account"], a["local"]["amount"]),
            )
        if not commit:
            conn.rollback()
            raise utils.DTMFailureError("local transaction rolled back")
        conn.commit()
    finally:
        conn.close()


def run_msg(a):
    m = msg.Msg(a["dtm"], a["gid"])
    for step in a["steps"]:
        m.add(step, a["part"] + "/msg")
    options(m.trans_base, a)
    query_prepared = a["part"] + "/query_prepared"
    mode = a["mode"]
    if mode in ("commit", "rollback"):
        m.do_and_submit(query_prepared, lambda _barrier: local_transaction(a, mode == "commit"))
    else:
        # The application dies between prepare and submit: the coordinator's back-check decides.
        m.prepare(query_prepared)
        if mode == "crash-after-commit":
            local_transaction(a, True)
    return a["gid"]


SCENARIOS = {"saga": run_saga, "tcc": run_tcc, "msg": run_msg}


def main():
    a = json.loads(sys.argv[1])
    try:
        print(json.dumps({"ok": True, "result": SCENARIOS[a["scenario"]](a)}))
    except utils.DTMFailureError as e:
        print(json.dumps({"ok": False, "failure": True, "error": str(e)}))
    except Exception as e:  # noqa: BLE001 - every other client error is reported, not raised
        print(json.dumps({"ok": False, "failure": False, "error": str(e)}))


if __name__ == "__main__":
    main()
