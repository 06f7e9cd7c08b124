#!/usr/bin/env python3
"""Drive the fake apiserver's side channel for the Kubernetes-mode benches (run it inside the node
namespace: the fake apiserver listens on that namespace's 127.0.0.1).

usage:
  kube.py node URL NAME                      create the Node the agent runs as
  kube.py services URL FIRST COUNT PAUSE_MS  create LoadBalancer Services svc-FIRST … svc-(FIRST+COUNT-1),
                                             one request each on one keep-alive connection, PAUSE_MS
                                             between them; VIP of svc-i = 2001:db8:1::1 + i (the same
                                             list as `gen_mrt.py list 6`)
  kube.py watching URL                       exit 0 when a client has a watch open on Services
  kube.py status-count URL                   print how many Services carry status.loadBalancer.ingress
  kube.py writes URL                         print how many write requests (PUT/PATCH/POST, not the side
                                             channel) clients have made to Services so far
  kube.py latency URL ROUTES FIRST COUNT     per Service svc-FIRST…: ms from the watch-log entry of its
                                             ADDED event to BIRD's import stamp in ROUTES (the output of
                                             `birdc show route all … protocol herald`); prints
                                             "p50 p99 max n p50_stored p99_stored" (the last two clocked
                                             from the store write instead)

Every request has a 30 s timeout; every loop is bounded by COUNT.
"""
import datetime
import http.client
import ipaddress
import json
import re
import sys
import time
import urllib.parse

TIMEOUT_S = 30
VIP_BASE = ipaddress.ip_address('2001:db8:1::1')


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT_S)


def request(c, method, path, body=None):
    headers = {'Content-Type': 'application/json'} if body is not None else {}
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    if r.status != 200:
        sys.exit(f"kube.py: {method} {path} -> {r.status}: {data[:300]!r}")
    return json.loads(data) if data else None


def service_name(i):
    return f"svc-{i:05d}"


def vip(i):
    return VIP_BASE + i


def service(i):
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": service_name(i), "namespace": "default"},
        "spec": {"type": "LoadBalancer", "loadBalancerIP": str(vip(i)),
                 "ports": [{"port": 80, "protocol": "TCP"}]},
    }


def cmd_node(url, name):
    c = conn(url)
    request(c, 'POST', '/_fake/upsert', json.dumps(
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name,
         "labels": {"kubernetes.io/hostname": name}},
         "status": {"conditions": [{"type": "Ready", "status": "True"}]}}))


def cmd_services(url, first, count, pause_ms):
    c = conn(url)
    t0 = time.monotonic()
    for i in range(first, first + count):
        request(c, 'POST', '/_fake/upsert', json.dumps(service(i)))
        if pause_ms > 0:
            time.sleep(pause_ms / 1000)
    print(f"created {count} Services in {time.monotonic() - t0:.1f} s", file=sys.stderr)


def cmd_watching(url):
    reqs = request(conn(url), 'GET', '/_fake/requests')
    ok = any(r.get('path', '').endswith('/services') and
             re.search(r'(^|&)watch=(1|true)', r.get('query', '')) for r in reqs)
    sys.exit(0 if ok else 1)


def cmd_status_count(url):
    items = request(conn(url), 'GET', '/api/v1/services').get('items', [])
    print(sum(1 for s in items if (s.get('status') or {}).get('loadBalancer', {}).get('ingress')))


def cmd_writes(url):
    reqs = request(conn(url), 'GET', '/_fake/requests')
    print(sum(1 for r in reqs if r.get('method') in ('PUT', 'PATCH', 'POST') and '/services' in r.get('path', '')))


def epoch_s(t):
    """A serialized SystemTime: serde's {secs_since_epoch, nanos_since_epoch}, RFC 3339, or seconds."""
    if isinstance(t, dict):
        return t['secs_since_epoch'] + t['nanos_since_epoch'] / 1e9
    if isinstance(t, (int, float)):
        return float(t)
    return datetime.datetime.fromisoformat(t.replace('Z', '+00:00')).timestamp()


def tod_ms(epoch):
    """ms since local midnight: BIRD stamps routes with the local time of day."""
    d = datetime.datetime.fromtimestamp(epoch)
    return ((d.hour * 60 + d.minute) * 60 + d.second) * 1000 + d.microsecond / 1000


def bird_stamps(path):
    """prefix -> import time (ms of day) from `show route all` text."""
    stamps = {}
    line_re = re.compile(r'^(\S+)\s+.*?\[herald\S* (\d\d):(\d\d):(\d\d)\.(\d{3})')
    with open(path) as f:
        for line in f:
            m = line_re.match(line)
            if m:
                h, mi, s, ms = map(int, m.groups()[1:])
                stamps[ipaddress.ip_network(m.group(1)).network_address] = ((h * 60 + mi) * 60 + s) * 1000 + ms
    return stamps


def tod_diff(a, b):
    """b - a for two ms-of-day stamps, across midnight (a late the day before, b just after)."""
    d = b - a
    return d + 86_400_000 if d < -43_200_000 else d


def percentile(sorted_vals, p):
    # nearest rank: the smallest value with at least p% of the values at or below it
    k = max(0, min(len(sorted_vals) - 1, int(-(-p * len(sorted_vals) // 100)) - 1))
    return sorted_vals[k]


def cmd_latency(url, routes, first, count):
    log = request(conn(url), 'GET', '/_fake/watch-log')
    added = {}
    for e in log:
        if e.get('kind') == 'Service' and e.get('eventType') == 'ADDED' and e['name'] not in added:
            added[e['name']] = (epoch_s(e['at']), epoch_s(e['storedAt']))
    stamps = bird_stamps(routes)
    lat, lat_stored, missing = [], [], []
    for i in range(first, first + count):
        name = service_name(i)
        if name not in added or vip(i) not in stamps:
            missing.append(name)
            continue
        at, stored = added[name]
        bird = stamps[vip(i)]
        if len(lat) < 3:  # a sample of the raw stamps, to check the arithmetic by eye
            print(f"  {name} {vip(i)}: watch event {datetime.datetime.fromtimestamp(at).time()}, "
                  f"stored {datetime.datetime.fromtimestamp(stored).time()}, BIRD import {bird} ms of day",
                  file=sys.stderr)
        lat.append(tod_diff(tod_ms(at), bird))
        lat_stored.append(tod_diff(tod_ms(stored), bird))
    if missing:
        print(f"kube.py: no watch-log entry or route for {len(missing)} Services, e.g. {missing[:3]}", file=sys.stderr)
    if not lat:
        print("n/a n/a n/a 0 n/a n/a")
        return
    lat.sort(); lat_stored.sort()
    print(f"  latency ms: min {lat[0]:.0f}, p50 {percentile(lat, 50):.0f}, p90 {percentile(lat, 90):.0f}, "
          f"p99 {percentile(lat, 99):.0f}, max {lat[-1]:.0f}", file=sys.stderr)
    f = lambda v: f"{v:.0f}"
    print(f(percentile(lat, 50)), f(percentile(lat, 99)), f(lat[-1]), len(lat),
          f(percentile(lat_stored, 50)), f(percentile(lat_stored, 99)))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, url, rest = argv[1], argv[2], argv[3:]
    if cmd == 'node':
        cmd_node(url, rest[0])
    elif cmd == 'services':
        cmd_services(url, int(rest[0]), int(rest[1]), float(rest[2]))
    elif cmd == 'watching':
        cmd_watching(url)
    elif cmd == 'status-count':
        cmd_status_count(url)
    elif cmd == 'writes':
        cmd_writes(url)
    elif cmd == 'latency':
        cmd_latency(url, rest[0], int(rest[1]), int(rest[2]))
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
