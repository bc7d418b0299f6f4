// `tunnelmesh completion bash|zsh|fish`: generated from the commander program itself, so
// every command and flag (including ones added later) completes without a hand-kept list.
// explain-protocol's TARGET completes from the input the command line names — its -f files,
// or the cluster of its --kubeconfig/--context/-n — through the hidden `__targets` command:
// `ingress/NAME`, `tunnelbinding/NAME`, `httproute/NAME`, `service/NAME`, `service/NAME:PORT` and
// the hostnames tunnel rules serve.

import type { Command, Option } from 'commander';
import { RULES } from '../rules/index.js';
import type { DoctorOptions } from './doctor.js';
import type { Io } from './terminal.js';

/** Flags of explain-protocol the scripts pass on to `__targets` (with their value). */
const TARGET_FLAGS = ['-f', '--filename', '-n', '--namespace', '--context', '--kubeconfig', '--tunnel-namespace', '--cluster-domain'];

/** Candidates for explain-protocol's TARGET in a snapshot, sorted, each once. */
export async function listTargets(opts: Pick<DoctorOptions, 'namespace'> & { snapshot: import('../core/snapshot.js').Snapshot; clusterDomain?: string }): Promise<string[]> {
  const { MeshModel } = await import('../model/model.js');
  const model = new MeshModel(opts.snapshot, { clusterDomain: opts.clusterDomain ?? 'cluster.local' });
  const inScope = (ns: string | undefined): boolean => opts.namespace === undefined || ns === opts.namespace;
  const out = new Set<string>();
  // The objects explain-protocol takes by kind: Ingresses, TunnelBindings (both groups), HTTPRoutes.
  const typed: Record<string, string> = { Ingress: 'ingress', TunnelBinding: 'tunnelbinding', HTTPRoute: 'httproute' };
  for (const o of opts.snapshot.objects) {
    const prefix = typed[o.kind];
    if (prefix && inScope(o.metadata.namespace)) out.add(`${prefix}/${o.metadata.name}`);
  }
  for (const svc of model.services) {
    if (!inScope(svc.namespace)) continue;
    out.add(`service/${svc.name}`);
    for (const p of svc.ports) out.add(`service/${svc.name}:${p.port}`);
  }
  // Hostnames are served across namespaces: every one the tunnels (or the Ingresses they will serve) name.
  const hosts = new Set<string>();
  for (const t of model.tunnels) for (const r of t.rules) if (r.hostname && !r.hostname.includes('*')) hosts.add(r.hostname.toLowerCase());
  for (const b of model.operator.backends) if (b.host && !b.host.includes('*')) hosts.add(b.host.toLowerCase());
  return [...[...out].sort(), ...[...hosts].sort()];
}

/** `tunnelmesh __targets [-f …] [-n …]`: what the completion scripts offer, one a line; quiet on failure. */
export async function runTargets(opts: DoctorOptions, io: Io): Promise<number> {
  const { collect } = await import('./doctor.js');
  const quiet: Io = { out: () => undefined, err: () => undefined };
  try {
    const collected = await collect(opts, false, quiet);
    const targets = await listTargets({ snapshot: collected.snapshot, ...(collected.namespace ? { namespace: collected.namespace } : {}), clusterDomain: opts.clusterDomain });
    io.out(targets.map((t) => `${t}\n`).join(''));
    return 0;
  } catch {
    return 0; // a TAB never prints an error in the middle of a command line
  }
}

type Shell = 'bash' | 'zsh' | 'fish';

type ValueKind =
  | { kind: 'none' }
  | { kind: 'any' }
  | { kind: 'file' }
  | { kind: 'dir' }
  | { kind: 'context' }
  | { kind: 'namespace' }
  | { kind: 'targets' }
  | { kind: 'words'; words: string[] };

interface OptSpec {
  short?: string;
  long?: string;
  description: string;
  value: ValueKind;
}

interface CmdSpec {
  name: string;
  description: string;
  options: OptSpec[];
  /** Words for the positional argument(s). */
  args: ValueKind;
}

const CONTEXTS_CMD = 'kubectl config get-contexts -o name 2>/dev/null';
const NAMESPACES_CMD = "kubectl get namespaces -o name 2>/dev/null | sed 's,^namespace/,,'";

function valueKind(o: Option): ValueKind {
  if (!o.required && !o.optional) return { kind: 'none' };
  if (o.argChoices?.length) return { kind: 'words', words: o.argChoices };
  const name = o.attributeName();
  if (name === 'filename' || name === 'kubeconfig' || name === 'config' || name === 'fixDiff') return { kind: 'file' };
  if (name === 'fixOut' || name === 'chartDir') return { kind: 'dir' };
  if (name === 'context') return { kind: 'context' };
  if (name === 'namespace' || name === 'tunnelNamespace') return { kind: 'namespace' };
  return { kind: 'any' };
}

function specOf(cmd: Command): CmdSpec {
  const options: OptSpec[] = cmd.options.map((o) => ({
      ...(o.short ? { short: o.short } : {}),
      ...(o.long ? { long: o.long } : {}),
      description: o.description,
    value: valueKind(o),
  }));
  options.push({ short: '-h', long: '--help', description: 'display help', value: { kind: 'none' } });
  const arg = cmd.registeredArguments[0];
  let args: ValueKind = { kind: 'none' };
  if (arg?.argChoices?.length) args = { kind: 'words', words: arg.argChoices };
  else if (cmd.name() === 'rules') args = { kind: 'words', words: RULES.map((r) => r.meta.code) };
  else if (cmd.name() === 'explain-protocol') args = { kind: 'targets' };
  return { name: cmd.name(), description: cmd.description(), options, args };
}

export function completionScript(shell: Shell, program: Command): string {
  const commands = program.commands.filter((c) => !c.name().startsWith('__')).map(specOf);
  const bin = 'tunnelmesh';
  if (shell === 'bash') return bashScript(bin, commands);
  if (shell === 'zsh') return zshScript(bin, commands);
  return fishScript(bin, commands);
}

function flagsOf(o: OptSpec): string[] {
  return [o.short, o.long].filter((f): f is string => Boolean(f));
}

function bashValue(v: ValueKind): string {
  switch (v.kind) {
    case 'words':
      return `COMPREPLY=($(compgen -W "${v.words.join(' ')}" -- "$cur"))`;
    case 'file':
      return 'COMPREPLY=($(compgen -f -- "$cur"))';
    case 'dir':
      return 'COMPREPLY=($(compgen -d -- "$cur"))';
    case 'context':
      return `COMPREPLY=($(compgen -W "$(${CONTEXTS_CMD})" -- "$cur"))`;
    case 'namespace':
      return `COMPREPLY=($(compgen -W "$(${NAMESPACES_CMD})" -- "$cur"))`;
    default:
      return 'COMPREPLY=()';
  }
}

function bashScript(bin: string, commands: CmdSpec[]): string {
  const cases = commands.map((c) => {
    const valued = c.options.filter((o) => o.value.kind !== 'none');
    const prevCases = valued.map((o) => `        ${flagsOf(o).join('|')}) ${bashValue(o.value)}; return ;;`).join('\n');
    const allFlags = c.options.flatMap(flagsOf).join(' ');
    const argWords = c.args.kind === 'words' ? ` ${c.args.words.join(' ')}` : '';
    const last =
      c.args.kind === 'targets'
        ? [
            '      if [[ "$cur" == -* ]]; then',
            `        COMPREPLY=($(compgen -W "${allFlags}" -- "$cur"))`,
            '      else',
            `        _${bin}_targets`,
            '      fi',
          ]
        : [`      COMPREPLY=($(compgen -W "${allFlags}${argWords}" -- "$cur"))`];
    return [`    ${c.name})`, '      case "$prev" in', prevCases, '      esac', ...last, '      ;;'].join('\n');
  });
  const targetFlags = TARGET_FLAGS.join('|');
  return `# bash completion for ${bin} (generated by \`${bin} completion bash\`)
# Load it: source <(${bin} completion bash)   or save it under /etc/bash_completion.d/

# explain-protocol TARGET: asks the command being completed (its -f files or its cluster).
# A colon splits words in bash: the word is read from the line and the part before the last
# colon is taken off each candidate, as bash-completion's __ltrim_colon_completions does.
_${bin}_targets() {
  local word="$cur" line="\${COMP_LINE:0:COMP_POINT}" i
  if [[ -n "$line" && "$line" != *" " ]]; then word="\${line##* }"; fi
  local -a pass=()
  for ((i = 2; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${targetFlags}) pass+=("\${COMP_WORDS[i]}" "\${COMP_WORDS[i+1]}"); ((i++)) ;;
    esac
  done
  local targets
  targets="$("\${COMP_WORDS[0]}" __targets "\${pass[@]}" --request-timeout 5s 2>/dev/null)"
  COMPREPLY=($(compgen -W "$targets" -- "$word"))
  if [[ "$word" == *:* && "$COMP_WORDBREAKS" == *:* ]]; then
    local strip="\${word%"\${word##*:}"}" j
    for j in "\${!COMPREPLY[@]}"; do COMPREPLY[j]="\${COMPREPLY[j]#"$strip"}"; done
  fi
}

_${bin}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$cmd" in
${cases.join('\n')}
    *)
      COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} help -h --help -V --version" -- "$cur"))
      ;;
  esac
}
complete -o default -F _${bin} ${bin} kubectl-${bin}
`;
}

function zshEscape(text: string): string {
  return text.replace(/'/g, "'\\''").replace(/\[/g, '\\[').replace(/\]/g, '\\]').replace(/:/g, '\\:');
}

function zshAction(v: ValueKind): string {
  switch (v.kind) {
    case 'none':
      return '';
    case 'words':
      return `:value:(${v.words.join(' ')})`;
    case 'file':
      return ':file:_files';
    case 'dir':
      return ':directory:_files -/';
    case 'context':
      return `:context:{compadd -- \${(f)"$(${CONTEXTS_CMD})"}}`;
    case 'namespace':
      return `:namespace:{compadd -- \${(f)"$(${NAMESPACES_CMD})"}}`;
    default:
      return ':value: ';
  }
}

function zshScript(bin: string, commands: CmdSpec[]): string {
  const fns = commands.map((c) => {
    const specs = c.options.map((o) => {
      const flags = flagsOf(o);
      const desc = `[${zshEscape(o.description)}]`;
      const action = zshAction(o.value);
      const spec = flags.length > 1 ? `'(${flags.join(' ')})'{${flags.join(',')}}'${desc}${action}'` : `'${flags[0]}${desc}${action}'`;
      return `    ${spec}`;
    });
    if (c.args.kind === 'words') specs.push(`    '1:${c.name === 'completion' ? 'shell' : 'rule'}:(${c.args.words.join(' ')})'`);
    if (c.args.kind === 'targets') specs.push(`    '1:target:_${bin}_targets'`);
    return `_${bin}_${c.name}() {\n  _arguments -s \\\n${specs.join(' \\\n')}\n}`;
  });
  const list = commands.map((c) => `    '${c.name}:${zshEscape(c.description)}'`).join('\n');
  return `#compdef ${bin} kubectl-${bin}
# zsh completion for ${bin} (generated by \`${bin} completion zsh\`)
# Load it: source <(${bin} completion zsh)   or save it as _${bin} in a directory on $fpath

# explain-protocol TARGET: asks the command being completed (its -f files or its cluster).
_${bin}_targets() {
  local -a pass targets
  local i
  for ((i = 2; i < CURRENT; i++)); do
    case "\${words[i]}" in
      ${TARGET_FLAGS.join('|')}) pass+=("\${words[i]}" "\${words[i+1]}"); ((i++)) ;;
    esac
  done
  targets=(\${(f)"$(\${words[1]:-${bin}} __targets "\${pass[@]}" --request-timeout 5s 2>/dev/null)"})
  compadd -- "\${targets[@]}"
}

${fns.join('\n\n')}

_${bin}() {
  local -a commands
  commands=(
${list}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd="\${words[2]}"
  shift words
  (( CURRENT-- ))
  if (( $+functions[_${bin}_$cmd] )); then
    _${bin}_$cmd
  fi
}

if [[ "\${funcstack[1]}" == "_${bin}" ]]; then
  _${bin} "$@"
else
  compdef _${bin} ${bin} kubectl-${bin}
fi
`;
}

function fishScript(bin: string, commands: CmdSpec[]): string {
  const q = (t: string) => `'${t.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [
    `# fish completion for ${bin} (generated by \`${bin} completion fish\`)`,
    `# Load it: ${bin} completion fish | source   or save it as ~/.config/fish/completions/${bin}.fish`,
    `complete -c ${bin} -f`,
    '# explain-protocol TARGET: asks the command being completed (its -f files or its cluster).',
    `function __${bin}_targets`,
    '    set -l tokens (commandline -opc)',
    '    set -l pass',
    '    set -l i 2',
    '    while test $i -lt (count $tokens)',
    `        if contains -- $tokens[$i] ${TARGET_FLAGS.join(' ')}`,
    '            set pass $pass $tokens[$i] $tokens[(math $i + 1)]',
    '            set i (math $i + 1)',
    '        end',
    '        set i (math $i + 1)',
    '    end',
    `    $tokens[1] __targets $pass --request-timeout 5s 2>/dev/null`,
    'end',
  ];
  for (const c of commands) lines.push(`complete -c ${bin} -n __fish_use_subcommand -a ${c.name} -d ${q(c.description)}`);
  for (const c of commands) {
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    for (const o of c.options) {
      const flags = [o.short ? `-s ${o.short.slice(1)}` : '', o.long ? `-l ${o.long.slice(2)}` : ''].filter(Boolean).join(' ');
      let value = '';
      switch (o.value.kind) {
        case 'words':
          value = ` -x -a ${q(o.value.words.join(' '))}`;
          break;
        case 'file':
          value = ' -r -F';
          break;
        case 'dir':
          value = " -x -a '(__fish_complete_directories)'";
          break;
        case 'context':
          value = ` -x -a '(${CONTEXTS_CMD.replace(/'/g, "\\'")})'`;
          break;
        case 'namespace':
          value = ` -x -a '(${NAMESPACES_CMD.replace(/'/g, "\\'")})'`;
          break;
        case 'any':
          value = ' -x';
          break;
      }
      lines.push(`complete -c ${bin} ${when} ${flags}${value} -d ${q(o.description)}`);
    }
    if (c.args.kind === 'words') lines.push(`complete -c ${bin} ${when} -a ${q(c.args.words.join(' '))}`);
    if (c.args.kind === 'targets') lines.push(`complete -c ${bin} ${when} -a '(__${bin}_targets)'`);
  }
  return `${lines.join('\n')}\n`;
}
