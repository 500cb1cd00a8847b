/**
 * The programs that run between the agent and a task's command, so that the task outlives the
 * agent: a tiny `/bin/sh` front (enter the cgroup, enter the working directory) that execs a Perl
 * supervisor (pipe the command's stdout and stderr into one timestamped log, wait for it, record
 * its exit status and CPU time). Where Perl is missing the shell itself runs the command, with
 * its output in two raw files (no per-line times). The supervisor is a Perl sub, which the
 * launcher (launcher-script.ts) runs in a forked child instead. Also the parser of the `exit`
 * file they write.
 * Pure: text in, text out.
 *
 * @module
 */

/** File names inside a task's directory. */
export const FILES = {
  meta: 'meta.json',
  /** Lines `O|E <ms since epoch or -> <text>`, in the order the supervisor read them. */
  output: 'output.log',
  /** Without Perl: the raw streams. */
  stdoutRaw: 'stdout.raw',
  stderrRaw: 'stderr.raw',
  exit: 'exit',
  /** The shell front's own stdout/stderr (normally empty). */
  supervisor: 'supervisor.log',
} as const;

/** Name of the supervisor script in the state directory. */
export const SUPERVISOR_FILE = '.shoal-supervise.pl';

export const SUPERVISE_SUB = String.raw`# Time::HiRes loads on the first output; POSIX is the launcher's already (run alone, it costs a start-up).
# supervise($dir, $ready, @argv): $ready (or undef) runs once the stop signals are held, before
# the command forks (the launcher's child announces itself, enters the cgroup and the directory there).
sub supervise {
my ($dir, $ready, @argv) = @_;
require POSIX;
# A stop signal is for the command: the supervisor lives on to record the exit. The stop signals
# are held (blocked) until the command exists: one sent before is then passed on to it, later
# ones reach it through its group. (A Perl handler would not do: Perl runs handlers only between
# some ops, so one for a signal that came just before the fork could run after it and be dropped.)
my @stops = (POSIX::SIGTERM(), POSIX::SIGINT(), POSIX::SIGHUP(), POSIX::SIGQUIT());
my $held = POSIX::SigSet->new(@stops);
POSIX::sigprocmask(POSIX::SIG_BLOCK(), $held);
$SIG{PIPE} = 'IGNORE';
my $done = 0; my $done_at = 0; my $hires = 0;
$SIG{CHLD} = sub { $done = 1 };
$ready->() if $ready;
pipe(my $or, my $ow) or die "pipe: $!";
pipe(my $er, my $ew) or die "pipe: $!";
my $pid = fork();
defined $pid or die "fork: $!";
if ($pid == 0) {
  $SIG{$_} = 'DEFAULT' for qw(TERM INT HUP QUIT PIPE CHLD);
  # Nothing is pending in a new process: a stop signal sent to the group since the fork ends it here.
  POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $held);
  close $or; close $er;
  open(STDOUT, '>&', $ow) or exit 126;
  open(STDERR, '>&', $ew) or exit 126;
  close $ow; close $ew;
  exec { $argv[0] } @argv;
  my $code = $! == 2 ? 127 : 126; # ENOENT
  print STDERR "shoal: cannot run \"$argv[0]\": $!\n";
  exit $code;
}
my $pending = POSIX::SigSet->new;
POSIX::sigpending($pending);
$SIG{$_} = 'IGNORE' for qw(TERM INT HUP QUIT);
POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $held);
for my $sig (@stops) { kill($sig, $pid) if $pending->ismember($sig); }
close $ow; close $ew;
# output.log and exit are created only when needed and without a temporary name (parseExit
# wants the "end" line): creating a file costs up to a millisecond of kernel time on some hosts.
my $log;
my %fh = (O => $or, E => $er); my %rest = (O => '', E => '');
my $stamp = sub { my ($s, $text) = @_;
  $hires ||= eval { require Time::HiRes; 1 } ? 1 : -1;
  my $t = $hires > 0 ? int(Time::HiRes::time() * 1000) : time() * 1000;
  my @lines = split /\n/, $rest{$s} . $text, -1; $rest{$s} = pop @lines;
  return unless @lines;
  if (!$log) { open($log, '>>', "$dir/output.log") or die "output.log: $!"; select((select($log), $| = 1)[0]); }
  print {$log} map { "$s $t $_\n" } @lines if @lines; };
for (;;) {
  my @open = grep { defined $fh{$_} } qw(O E);
  last unless @open;
  my $rin = ''; vec($rin, fileno($fh{$_}), 1) = 1 for @open;
  my $n = select(my $rout = $rin, undef, undef, $done ? 0.05 : 1);
  $done_at ||= time() if $done;
  # The command ended and its pipes stay quiet (or a stray keeps writing): stop reading.
  last if $done && ($n == 0 || time() - $done_at > 1);
  next if $n <= 0;
  for my $s (@open) {
    next unless vec($rout, fileno($fh{$s}), 1);
    my $got = sysread($fh{$s}, my $buf, 65536);
    if ($got) { $stamp->($s, $buf); next; }
    close $fh{$s}; $fh{$s} = undef;
  }
}
for my $s (qw(O E)) { $stamp->($s, "\n") if length $rest{$s}; }
waitpid($pid, 0);
my $st = $?;
my $code = ($st & 127) ? 128 + ($st & 127) : $st >> 8;
my (undef, undef, $cu, $cs) = times;
open(my $x, '>', "$dir/exit") or die "exit: $!";
print {$x} "code=$code\ncpu_ms=" . int(($cu + $cs) * 1000) . "\nend\n";
close $x;
kill 'KILL', -getpgrp();
}
`;

/**
 * The supervisor: forks the command with its output on two pipes, stamps each line with the time
 * it was read, survives SIGTERM, SIGINT, SIGHUP and SIGQUIT (the command does not: it gets
 * default dispositions) so that it can record the exit status, and finally kills whatever is left of its process group, as Docker
 * does when a container's main process ends. Run as a script by the shell front (spawn per task);
 * the launcher (launcher-script.ts) runs the same sub in a forked child instead.
 */
export const SUPERVISOR_PERL = `${SUPERVISE_SUB}my ($dir, @argv) = @ARGV;\nsupervise($dir, undef, @argv);\n`;

/** What the shell front needs to know about one task. */
export interface WrapperInput {
  /** The task's directory. */
  readonly dir: string;
  readonly cwd: string;
  /** `cgroup.procs` files to write the shell's pid into, before anything runs. */
  readonly cgroupProcs: readonly string[];
  /** The supervisor script, or null to run without Perl. */
  readonly supervisor: string | null;
  readonly perl: string;
}

/**
 * The `sh -c` script of a task; the command's argv follows as the shell's positional parameters.
 * Only shell builtins run before the supervisor (no extra process per task).
 */
export function wrapperScript(w: WrapperInput): string {
  const lines = [`d=${shq(w.dir)}`];
  for (const file of w.cgroupProcs) {
    lines.push(
      `echo $$ 2>/dev/null > ${shq(file)} || echo "E - shoal: could not enter the cgroup (${file}): running without its limits" >> "$d/output.log"`,
    );
  }
  const error = `cannot enter the working directory ${w.cwd}: it does not exist or is not accessible to the task's user`;
  lines.push(
    `cd -- ${shq(w.cwd)} 2>/dev/null || { printf 'code=126\\nerror=%s\\nend\\n' ${shq(error)} > "$d/exit"; exit 126; }`,
  );
  if (w.supervisor !== null) {
    lines.push(`exec ${shq(w.perl)} ${shq(w.supervisor)} "$d" "$@"`);
  } else {
    // A trapped (not ignored) signal is reset in the command, and the shell lives on to record the exit.
    lines.push(
      'trap : TERM INT HUP',
      `"$@" >> "$d/${FILES.stdoutRaw}" 2>> "$d/${FILES.stderrRaw}"`,
      'c=$?',
      `{ echo "code=$c"; echo times; times; echo end; } > "$d/${FILES.exit}"`,
    );
  }
  return lines.join('\n');
}

/** Single-quotes a string for `sh`. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The contents of a task's `exit` file. */
export interface ExitRecord {
  readonly code: number;
  /** The command's CPU time (its whole tree as far as it waited for it), when known. */
  readonly cpuMs: number | null;
  /** Why it could not run, '' when it ran. */
  readonly error: string;
}

/** Parses an `exit` file; `null` while it is incomplete (the writer died mid-way, or is still writing). */
export function parseExit(text: string): ExitRecord | null {
  const lines = text.split('\n');
  if (!lines.includes('end')) return null;
  let code: number | null = null;
  let cpuMs: number | null = null;
  let error = '';
  const times: number[] = [];
  for (const line of lines) {
    const kv = /^(\w+)=(.*)$/.exec(line);
    if (kv?.[1] === 'code') code = Number(kv[2]);
    else if (kv?.[1] === 'cpu_ms') cpuMs = Number(kv[2]);
    else if (kv?.[1] === 'error') error = kv[2]!;
    const t = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(line);
    if (t) times.push((Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4])) * 1000);
  }
  // `times` prints the shell's own line, then its children's.
  if (cpuMs === null && times.length >= 2) cpuMs = Math.round(times[1]!);
  if (code === null || !Number.isInteger(code)) return null;
  return { code, cpuMs: cpuMs !== null && Number.isFinite(cpuMs) ? cpuMs : null, error };
}

/** The `exit` file the agent writes itself when the supervisor died without writing one. */
export function formatExit(record: ExitRecord): string {
  const error = record.error ? `error=${record.error.replace(/\n/g, ' ')}\n` : '';
  return `code=${record.code}\n${record.cpuMs !== null ? `cpu_ms=${record.cpuMs}\n` : ''}${error}end\n`;
}
