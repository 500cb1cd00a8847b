/**
 * The launcher: one long-lived Perl process per driver that starts the tasks' supervisors, so
 * that a task costs the agent one line on a pipe instead of a fork of the whole agent (Node's
 * spawn) and a Perl start-up. Its protocol, both ways one line per message, fields separated by
 * tabs and escaped by {@link escapeField}:
 *
 * - in: `start <seq> <dir> <meta> <cwd> <uid> <gid> <n> <cgroup.procs>×n <m> <K=V>×m <argv...>`
 *   (`uid`/`gid` empty: the agent's own user; `meta` empty: the directory and its `meta.json`
 *   exist, else the JSON of meta.json without its closing brace and pid fields: the supervisor
 *   creates the directory and writes the file with its own pid, off the agent's thread, since
 *   creating a file costs up to milliseconds of kernel time on some hosts);
 * - out: `pid <seq> <pid> <start time>` (written by the supervisor itself once it leads its own
 *   session and catches the stop signals, so that a stop right after start reaches it),
 *   `err <seq> <message>` (fork failed), `exited <seq> <pid> <wait status>` (the launcher reaped it).
 *
 * Pure: text in, text out.
 *
 * @module
 */
import { SUPERVISE_SUB } from './wrapper.js';

/** Name of the launcher script in the state directory. */
export const LAUNCHER_FILE = '.shoal-launcher.pl';

/** Escapes a field of a launcher request: backslash, tab and newline. */
export function escapeField(s: string): string {
  return s.replace(/[\\\t\n]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : '\\n'));
}

/** What the launcher needs to start one task's supervisor. */
export interface LaunchRequest {
  readonly dir: string;
  /** A first start: create `dir` and write `meta.json` (all but `pid` and `pidStartTime`, which the supervisor adds). */
  readonly meta: Readonly<Record<string, unknown>> | null;
  readonly cwd: string;
  readonly cgroupProcs: readonly string[];
  readonly user: { readonly uid: number; readonly gid: number } | null;
  readonly env: Readonly<Record<string, string>>;
  readonly argv: readonly string[];
}

/** The request line (with its newline) for sequence number `seq`. */
export function formatLaunch(seq: number, r: LaunchRequest): string {
  const fields = [
    'start',
    String(seq),
    r.dir,
    r.meta ? JSON.stringify(r.meta).slice(0, -1) : '',
    r.cwd,
    r.user ? String(r.user.uid) : '',
    r.user ? String(r.user.gid) : '',
    String(r.cgroupProcs.length),
    ...r.cgroupProcs,
    String(Object.keys(r.env).length),
    ...Object.entries(r.env).map(([k, v]) => `${k}=${v}`),
    ...r.argv,
  ];
  return `${fields.map(escapeField).join('\t')}\n`;
}

/** A message of the launcher. */
export type LauncherMessage =
  | { readonly kind: 'pid'; readonly seq: number; readonly pid: number; readonly startTime: string | null }
  | { readonly kind: 'err'; readonly seq: number; readonly message: string }
  | { readonly kind: 'exited'; readonly seq: number; readonly pid: number; readonly status: number };

/** Parses one line of the launcher's output; `null` for anything else. */
export function parseLauncherLine(line: string): LauncherMessage | null {
  const [kind, seq, a, b] = line.split(' ');
  const n = Number(seq);
  if (!Number.isSafeInteger(n)) return null;
  if (kind === 'pid' && /^\d+$/.test(a ?? '')) return { kind, seq: n, pid: Number(a), startTime: b || null };
  if (kind === 'exited' && /^\d+$/.test(a ?? '') && /^\d+$/.test(b ?? '')) {
    return { kind, seq: n, pid: Number(a), status: Number(b) };
  }
  if (kind === 'err') return { kind, seq: n, message: line.split(' ').slice(2).join(' ') };
  return null;
}

/** Decodes a wait status into the exit code or the signal number. */
export function decodeWaitStatus(status: number): { code: number | null; signal: number | null } {
  const signal = status & 127;
  return signal !== 0 ? { code: null, signal } : { code: (status >> 8) & 255, signal: null };
}

/**
 * The launcher script. It exits when the agent closes its stdin (the agent ended): its
 * supervisors, each the leader of its own session, carry on under init and a new agent adopts
 * them from their directories.
 */
export const LAUNCHER_PERL = String.raw`${SUPERVISE_SUB}
use strict; no strict 'refs';
require POSIX;
$SIG{PIPE} = 'IGNORE';
$SIG{$_} = 'IGNORE' for qw(INT QUIT HUP);
# SIGCHLD wakes select() through a pipe. Perl runs the handler only between ops, so one that lands
# just before select() blocks writes the pipe only after select() returns: while supervisors run,
# select() waits at most 50 ms, which bounds that delay (without it, the end of a burst's last
# tasks was heard only at the next start).
pipe(my $wr, my $ww) or die "pipe: $!";
{ my $old = select($ww); $| = 1; select($old); }
fcntl($ww, 4, 2048); # F_SETFL, O_NONBLOCK
$SIG{CHLD} = sub { syswrite($ww, 'x') };
my %kids; # pid => seq
sub say_line { my $l = shift; my $off = 0;
  while ($off < length $l) { my $n = syswrite(STDOUT, $l, length($l) - $off, $off);
    if (!defined $n) { last unless $! == 4; next; } # EINTR; anything else: the agent is gone
    $off += $n; } }
sub reap { for (;;) { my $pid = waitpid(-1, 1); last if $pid <= 0; # WNOHANG
  my $seq = delete $kids{$pid}; say_line("exited $seq $pid $?\n") if defined $seq; } }
sub unescape { my $s = shift; $s =~ s/\\(.)/$1 eq 'n' ? "\n" : $1 eq 't' ? "\t" : $1/ge; $s }
sub launch { my @f = map { unescape($_) } split /\t/, shift, -1;
  return unless @f >= 8 && $f[0] eq 'start';
  my (undef, $seq, $dir, $meta, $cwd, $uid, $gid, $ncg) = splice(@f, 0, 8);
  my @cg = splice(@f, 0, $ncg); my $nenv = shift @f; my @env = splice(@f, 0, $nenv); my @argv = @f;
  my $pid = fork();
  if (!defined $pid) { my $e = "$!"; $e =~ s/\n/ /g; say_line("err $seq cannot fork a supervisor: $e\n"); return; }
  if ($pid) { $kids{$pid} = $seq; return; }
  # The child becomes the task's supervisor.
  POSIX::setsid();
  $SIG{CHLD} = 'DEFAULT'; $SIG{$_} = 'DEFAULT' for qw(INT QUIT HUP);
  close $wr; close $ww; close STDIN; open(STDIN, '<', '/dev/null');
  %ENV = map { split /=/, $_, 2 } @env;
  my $ready = sub {
    my $start = '';
    if (open(my $s, '<', "/proc/$$/stat")) { my $t = <$s>; $t =~ s/^.*\) //s; $start = (split / /, $t)[19] // ''; }
    if ($meta ne '') {
      mkdir($dir, 0700) or $!{EEXIST} or warn "cannot create the task directory: $!\n";
      chown($uid, $gid, $dir) if $uid ne '';
      my $st = $start eq '' ? 'null' : "\"$start\"";
      # In place (half a file reads as none, as no file would after a crash): a temporary one costs another creation.
      if (open(my $m, '>', "$dir/meta.json")) { print {$m} "$meta,\"pid\":$$,\"pidStartTime\":$st}"; close $m; }
      else { warn "cannot write meta.json: $!\n"; }
    }
    say_line("pid $seq $$ $start\n");
    # Its own complaints go to the launcher's log (stderr, inherited), saying which task.
    open(STDOUT, '>', '/dev/null');
    $SIG{__WARN__} = sub { print STDERR "$dir: $_[0]" }; $SIG{__DIE__} = sub { print STDERR "$dir: $_[0]" };
    for my $file (@cg) {
      my $p; my $ok = open($p, '>', $file) && print({$p} "$$\n") && close($p);
      if (!$ok && open(my $o, '>>', "$dir/output.log")) {
        print {$o} "E - shoal: could not enter the cgroup ($file): running without its limits\n"; close $o; }
    }
    my $fail = sub { if (open(my $x, '>', "$dir/exit")) { print {$x} "code=126\nerror=$_[0]\nend\n"; close $x; }
      POSIX::_exit(126); };
    if ($uid ne '') {
      $) = "$gid $gid"; $( = $gid; $> = $uid; $< = $uid;
      $fail->("cannot switch to user $uid:$gid: $!") if $< != $uid || $> != $uid;
    }
    chdir $cwd or $fail->("cannot enter the working directory $cwd: it does not exist or is not accessible to the task's user");
  };
  supervise($dir, $ready, @argv);
  POSIX::_exit(0);
}
my $buf = '';
for (;;) {
  my $rin = ''; vec($rin, 0, 1) = 1; vec($rin, fileno($wr), 1) = 1;
  my $n = select(my $rout = $rin, undef, undef, %kids ? 0.05 : undef);
  if ($n > 0 && vec($rout, fileno($wr), 1)) { sysread($wr, my $junk, 4096); }
  reap();
  next unless $n > 0 && vec($rout, 0, 1);
  my $got = sysread(STDIN, $buf, 65536, length $buf);
  next if !defined $got;
  last if $got == 0; # the agent is gone
  while ($buf =~ s/^([^\n]*)\n//) { launch($1); }
}
`;
