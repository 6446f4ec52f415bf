# inventory: `inventory --root` and `risk --root` on the fixture of
# tests/inventory/make-fixture.sh report exactly the planted items (JSON checked field by
# field); `--fail-on` exits 3 at or above the severity; on the live host a listener opened
# here appears with its pid and executable, and a running deleted executable is found.
# shellcheck shell=sh source=../../vm/lib.sh
. "$SG_LIB"

R=$SG_WORK/root
sh "$(dirname "$SG_LIB")/../inventory/make-fixture.sh" "$R" || fail "make-fixture.sh"

"$SG" inventory --root "$R" --json >"$SG_WORK/inv.json" 2>"$SG_WORK/err" || fail "inventory --root: $(cat "$SG_WORK/err")"
python3 - "$SG_WORK/inv.json" "$R" <<'PY' || fail "inventory --root JSON"
import json, sys
inv = json.load(open(sys.argv[1]))
def eq(got, want, what):
    if got != want:
        sys.exit(f"{what}: got {got!r}, want {want!r}")
eq(inv["schema"], 1, "schema")
eq(inv["live"], False, "live")
eq(inv["root"], sys.argv[2], "root")
eq(sorted(u["section"] for u in inv["unavailable"]), ["containers.running", "deleted_executables",
   "host.kernel", "host.safeguard.agents", "kernel_modules.loaded", "listeners"], "unavailable")
h = inv["host"]
eq((h["hostname"], h["machine_id"], h["os"]["id"], h["os"]["version_id"]),
   ("fixture-host", "0123456789abcdef0123456789abcdef", "debian", "12"), "host")
eq((h["kernel_release"], h["lsm"], h["btf"]), (None, None, None), "live-only host fields")
eq((h["safeguard"]["installed"], h["safeguard"]["config_state"]), (False, "absent"), "safeguard")
users = {u["name"]: u for u in inv["users"]}
eq(list(users), ["root", "daemon", "alice", "toor", "guest"], "users")
eq([n for n, u in users.items() if u["uid"] == 0], ["root", "toor"], "uid 0")
eq({n: u["password"] for n, u in users.items()},
   {"root": "set", "daemon": "locked", "alice": "set", "toor": "set", "guest": "empty"}, "passwords")
eq({n: u["login_shell"] for n, u in users.items()},
   {"root": True, "daemon": False, "alice": True, "toor": True, "guest": True}, "login shells")
eq(users["alice"]["sudo"], ["%sudo ALL=(ALL:ALL) ALL", "alice ALL=(root) NOPASSWD: /usr/bin/systemctl"], "sudo")
eq(users["root"]["authorized_keys"], [{"file": "/root/.ssh/authorized_keys", "line": 1,
   "key_type": "ssh-ed25519", "comment": "root@admin", "options": ""}], "root's keys")
ssh = {s["key"]: s for s in inv["ssh"]["settings"]}
eq((ssh["PermitRootLogin"]["value"], ssh["PermitRootLogin"]["source"]),
   ("yes", "/etc/ssh/sshd_config.d/50-planted.conf:1"), "PermitRootLogin")
eq((ssh["PasswordAuthentication"]["value"], ssh["PasswordAuthentication"]["source"]),
   ("no", "/etc/ssh/sshd_config:3"), "PasswordAuthentication")
eq(inv["ssh"]["files"], ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/50-planted.conf"], "ssh files")
eq(inv["ssh"]["match_overrides"], [{"key": "PasswordAuthentication", "value": "yes",
   "source": "/etc/ssh/sshd_config:6", "match": "User backup"}], "Match block")
eq([(f["path"], f["mode"], f["setuid"], f["setgid"], f["package"]) for f in inv["setid_files"]],
   [("/usr/bin/su", "4755", True, False, "login"), ("/usr/local/bin/helper", "4755", True, False, None)], "set-id files")
eq(inv["file_capabilities"], [], "file capabilities")
eq((inv["walk"]["truncated"], "/usr" in inv["walk"]["dirs"], "/bin" in inv["walk"]["dirs"]), (False, True, False), "walk")
eq([(d["dir"], d["world_writable"], d["sources"]) for d in inv["root_path"] if d["world_writable"]],
   [("/opt/tools/bin", True, ["/etc/sudoers secure_path"])], "world-writable PATH dirs")
eq([(c["file"], c["line"], c["user"], c["schedule"], c["command"], c["writable_program"]) for c in inv["cron"]],
   [("/etc/cron.d/backup", 2, "root", "*/5 * * * *", "/opt/tools/bin/backup.sh --quiet", "/opt/tools/bin/backup.sh"),
    ("/var/spool/cron/crontabs/alice", 1, "alice", "@daily", "/home/alice/sync.sh", None)], "cron")
eq([(s["unit"], s["kind"], s["wanted_by"], s["target"]) for s in inv["services"]],
   [("ssh.service", "service", "multi-user.target.wants", "/lib/systemd/system/ssh.service"),
    ("backup.timer", "timer", "timers.target.wants", "/etc/systemd/system/backup.timer")], "services")
eq(inv["packages"], {"owner_db": "dpkg", "rpm_db": None, "rpm": None, "dpkg": [
   {"name": "bash", "version": "5.2.15-2+b2", "arch": "amd64"},
   {"name": "login", "version": "1:4.13+dfsg1-1", "arch": "amd64"}]}, "packages")
eq((inv["listeners"], inv["deleted_executables"], inv["containers"]), ([], [], {"runtimes": [], "running": []}), "live parts")
eq([s["value"] for s in inv["sysctls"]], [None] * len(inv["sysctls"]), "sysctls (none configured)")
PY

"$SG" risk --root "$R" --json >"$SG_WORK/risk.json" 2>"$SG_WORK/err" || fail "risk --root: $(cat "$SG_WORK/err")"
python3 - "$SG_WORK/risk.json" <<'PY' || fail "risk --root JSON"
import json, sys
risk = json.load(open(sys.argv[1]))
got = [(f["id"], f["severity"], f["title"]) for f in risk["findings"]]
want = [
    ("uid0-account", "critical", "account toor has uid 0 besides root"),
    ("cron-writable-program", "high", "cron runs /opt/tools/bin/backup.sh as root, and others may replace it"),
    ("empty-password", "high", "account guest has an empty password"),
    ("path-world-writable", "high", "root's PATH holds the world-writable directory /opt/tools/bin"),
    ("setid-unowned", "high", "setuid file /usr/local/bin/helper belongs to no package"),
    ("ssh-root-login", "high", "sshd lets root log in with a password"),
    ("ssh-password-auth", "medium", "sshd accepts password logins (Match User backup)"),
]
if got != want:
    sys.exit(f"findings:\n got {got}\nwant {want}")
f = risk["findings"][0]
if f["evidence"] != ["/etc/passwd: toor:0:0:/root:/bin/sh"] or "usermod" not in f["remedy"]:
    sys.exit(f"uid0-account evidence/remedy: {f}")
if sorted(f) != ["evidence", "id", "remedy", "severity", "title"]:
    sys.exit(f"finding fields: {sorted(f)}")
PY

# --fail-on: 3 at or above the severity, 0 below it, 2 for a bad severity.
expect_status 3 "$SG" risk --root "$R" --fail-on critical
expect_status 3 "$SG" risk --root "$R" --fail-on MEDIUM
case $OUT in *"CRITICAL uid0-account"*"7 findings: 1 critical, 5 high, 1 medium, 0 low"*) ;; *) fail "risk text: $OUT" ;; esac
sed -i '/^toor:/d' "$R/etc/passwd"
expect_status 0 "$SG" risk --root "$R" --fail-on critical
expect_status 2 "$SG" risk --root "$R" --fail-on severe
expect_status 0 "$SG" inventory --root "$R"
case $OUT in *"/usr/local/bin/helper"*"(no package)"*"/opt/tools/bin"*"WORLD-WRITABLE"*) ;; *) fail "inventory text: $OUT" ;; esac
expect_status 1 "$SG" inventory --root "$SG_WORK/missing"

# Live: a TCP listener on all addresses from a copy of python3 outside the system
# directories, and a running program whose file was deleted.
cp "$(python3 -c 'import sys; print(sys.executable)')" "$SG_WORK/srv" || fail "copy python3"
"$SG_WORK/srv" -c 'import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 0)); s.listen()
open("port", "w").write(str(s.getsockname()[1])); time.sleep(60)' &
srv=$!
cp "$(command -v sleep)" "$SG_WORK/gone" || fail "copy sleep"
"$SG_WORK/gone" 60 &
gone=$!
trap 'kill "$srv" "$gone" 2>/dev/null' EXIT
i=0
while [ ! -s port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat port) || fail "the listener did not start"
rm -f "$SG_WORK/gone"
"$SG" inventory --json >"$SG_WORK/live.json" 2>"$SG_WORK/err" || fail "inventory: $(cat "$SG_WORK/err")"
"$SG" risk --json >"$SG_WORK/live-risk.json" 2>"$SG_WORK/err" || fail "risk: $(cat "$SG_WORK/err")"
kill "$srv" "$gone" 2>/dev/null
python3 - "$SG_WORK/live.json" "$SG_WORK/live-risk.json" "$port" "$srv" "$SG_WORK" "$gone" <<'PY' || fail "live inventory"
import json, sys
inv, risk = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
port, pid, work, gone = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
if not inv["live"] or not inv["host"]["kernel_release"]:
    sys.exit("not live")
mine = [l for l in inv["listeners"] if l["port"] == port and l["protocol"] == "tcp"]
if len(mine) != 1:
    sys.exit(f"listener on port {port}: {mine}")
l = mine[0]
if (l["address"], l["all_addresses"], l["uid"], l["host_netns"]) != ("0.0.0.0", True, 0, True):
    sys.exit(f"listener fields: {l}")
if [(p["pid"], p["exe"], p["comm"]) for p in l["processes"]] != [(pid, work + "/srv", "srv")]:
    sys.exit(f"listener processes: {l['processes']}")
if not any(p["pid"] == gone and p["exe"] == work + "/gone (deleted)" for p in inv["deleted_executables"]):
    sys.exit(f"deleted executable {gone}: {inv['deleted_executables']}")
ids = [(f["id"], f["title"]) for f in risk["findings"]]
if ("listener-outside-system", f"{work}/srv listens on all addresses, port {port}/tcp") not in ids:
    sys.exit(f"no listener finding: {ids}")
if ("deleted-executable", f"process {gone} (gone) runs an executable that was deleted") not in ids:
    sys.exit(f"no deleted-executable finding: {ids}")
PY
