#!/usr/bin/env python3
"""Latency a synchronous hook adds: 300 sequential posts each to an asynchronous and a
synchronous hook, for a pure workflow (one transform, finished inside the request) and a
queued one (an http_request to a local receiver, then a transform). Prints median and p99.

    python3 load-tests/sync_latency.py      # needs the release binary (CARGO_TARGET_DIR)
"""
import os
import statistics
import sys
import tempfile
import threading
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as lt
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0))); self.send_response(200); self.send_header("Content-Length","2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self,*a): pass
srv = ThreadingHTTPServer(("127.0.0.1",0),H); threading.Thread(target=srv.serve_forever,daemon=True).start()
recv=f"http://127.0.0.1:{srv.server_address[1]}/x"
proc, base, _ = lt.start([lt.DAEMON,"serve","--listen","127.0.0.1:0","--data-dir",tempfile.mkdtemp()],{"BOTCADENCE_ADMIN_TOKEN":"a"*32,"RUST_LOG":"warn,botcadence::startup=info","BOTCADENCE_HTTP_ACTIONS__ALLOW_CIDRS":'["127.0.0.0/8"]'})
_, key, wf, _ = lt.setup(base, "a"*32)
def hook(actions, response):
    s, w = lt.http("POST", base+"/v1/workflows", {"name":"x","status":"active","trigger":{"type":"webhook"},"actions":actions}, key)
    body={"workflow_id":w["id"],"event":"e"}
    if response: body["response"]=response
    s, h = lt.http("POST", base+"/v1/webhooks", body, key); return h["url"]
pure=[{"type":"transform","config":{"set":{"g":"hi {{n}}"}}}]
queued=[{"type":"http_request","config":{"url":recv,"method":"POST","body":{"n":"{{n}}"}}},{"type":"transform","config":{"set":{"g":"hi"}}}]
res={}
for name, actions in [("pure",pure),("queued",queued)]:
    for mode in [None, {"mode":"sync"}]:
        url=hook(actions, mode); lat=[]
        for i in range(300):
            t=time.perf_counter(); s,_=lt.http("POST", url, {"n":i}); lat.append((time.perf_counter()-t)*1000)
            assert s in (200,202), s
        lat.sort(); res[(name, "sync" if mode else "async")]=(statistics.median(lat), lat[int(len(lat)*0.99)])
for k,v in res.items(): print(k, "median %.2f ms p99 %.2f ms"%v)
lt.stop(proc)
