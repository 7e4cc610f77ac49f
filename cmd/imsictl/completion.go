package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Completion data. TestCompletionFlagsMatch keeps it in step with the
// commands' real flags.
var (
	globalFlags = []string{"--socket", "--url", "--token", "--token-file", "--ca-file", "--timeout", "--json", "--no-color"}
	// valueFlags take a value, so the word after them is not a command.
	valueFlags = []string{"--socket", "--url", "--token", "--token-file", "--ca-file", "--timeout", "--reason", "--for", "--since",
		"--limit", "--last", "--after", "--device", "--baud", "--dialect", "--wait-timeout", "--every"}
	commandFlags = map[string][]string{
		"status":    {"--watch", "--every"},
		"switch":    {"--reason", "--wait", "--wait-timeout"},
		"threat":    {"--reason"},
		"pin":       {"--for", "--wait", "--wait-timeout"},
		"unpin":     {"--wait", "--wait-timeout"},
		"events":    {"--follow", "--last", "--after"},
		"decisions": {"--since", "--limit"},
		"probe":     {"--device", "--baud", "--json", "--reveal", "--timeout", "--trace", "--dialect", "--socket"},
	}
	dialects = "generic quectel simcom ublox telit sierra huawei"
)

// completeShells are the shells `completion` knows.
var completeShells = map[string]func() string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}

func runCompletion(_ context.Context, e *env, g *globals, args []string) int {
	pos, code, done := parseCommand(e, g, "completion", args, nil)
	if done {
		return code
	}
	if len(pos) != 1 || completeShells[pos[0]] == nil {
		return usageError(e, "completion", "name a shell: bash, zsh or fish")
	}
	script := completeShells[pos[0]]()
	if g.json {
		writeJSON(e.stdout, struct {
			Shell  string `json:"shell"`
			Script string `json:"script"`
		}{pos[0], script})
		return exitOK
	}
	fmt.Fprint(e.stdout, script)
	return exitOK
}

// runComplete answers the completion scripts. It fails silently: a shell
// prompt is no place for an error message.
func runComplete(ctx context.Context, e *env, g *globals, args []string) int {
	quiet := *e
	quiet.stderr = discard{}
	pos, code, done := parseCommand(&quiet, g, "__complete", args, nil)
	if done {
		return code
	}
	if len(pos) != 1 || pos[0] != "profiles" {
		return exitUsage
	}
	if g.timeout == 0 {
		g.timeout = 2 * time.Second // a prompt must not hang
	}
	cl, _, code := dial(&quiet, g, "__complete")
	if cl == nil {
		return code
	}
	defer cl.Close()
	ps, err := cl.Profiles(ctx)
	if err != nil {
		return exitFail
	}
	for _, p := range ps {
		fmt.Fprintln(e.stdout, safe(p.Name))
	}
	return exitOK
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func visibleCommands() []command {
	var out []command
	for _, c := range commands {
		if !c.hidden {
			out = append(out, c)
		}
	}
	return out
}

func names(cs []command) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.name)
	}
	return strings.Join(s, " ")
}

func bashCompletion() string {
	var b strings.Builder
	b.WriteString(`# bash completion for imsictl. Install:
#   imsictl completion bash | sudo tee /etc/bash_completion.d/imsictl
# or add to ~/.bashrc:  source <(imsictl completion bash)
_imsictl() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    local cmd="" i conn=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            --socket|--url|--token-file|--ca-file) conn+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}"); ((i++)) ;;
`)
	fmt.Fprintf(&b, "            %s) ((i++)) ;;\n", strings.Join(valueFlags, "|"))
	b.WriteString(`            -*) ;;
            *) [[ -z "$cmd" ]] && cmd="${COMP_WORDS[i]}" ;;
        esac
    done
    case "$prev" in
        --socket|--token-file|--ca-file|--device) COMPREPLY=($(compgen -f -- "$cur")); return ;;
`)
	fmt.Fprintf(&b, "        --dialect) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", dialects)
	fmt.Fprintf(&b, "        %s) return ;;\n", strings.Join(without(valueFlags, "--socket", "--token-file", "--ca-file", "--device", "--dialect"), "|"))
	b.WriteString("    esac\n")
	fmt.Fprintf(&b, "    local flags=%q\n", strings.Join(globalFlags, " "))
	b.WriteString("    case \"$cmd\" in\n")
	for _, c := range sortedKeys(commandFlags) {
		if c == "probe" {
			fmt.Fprintf(&b, "        probe) flags=%q ;;\n", strings.Join(commandFlags[c], " "))
			continue
		}
		fmt.Fprintf(&b, "        %s) flags=\"$flags %s\" ;;\n", c, strings.Join(commandFlags[c], " "))
	}
	b.WriteString("    esac\n")
	b.WriteString(`    if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); return; fi
    case "$cmd" in
`)
	fmt.Fprintf(&b, "        \"\") COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", names(visibleCommands()))
	b.WriteString(`        switch|pin) COMPREPLY=($(compgen -W "$(imsictl "${conn[@]}" __complete profiles 2>/dev/null)" -- "$cur")) ;;
        completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
`)
	fmt.Fprintf(&b, "        help) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", names(visibleCommands()))
	b.WriteString(`        config) if [[ "$prev" == validate ]]; then COMPREPLY=($(compgen -f -- "$cur")); else COMPREPLY=($(compgen -W validate -- "$cur")); fi ;;
        threat) COMPREPLY=($(compgen -W ack -- "$cur")) ;;
    esac
}
complete -F _imsictl imsictl
`)
	return b.String()
}

func zshCompletion() string {
	var b strings.Builder
	b.WriteString(`#compdef imsictl
# zsh completion for imsictl. Install: put it on your $fpath as _imsictl,
#   imsictl completion zsh > "${fpath[1]}/_imsictl"
# or add to ~/.zshrc (after compinit):  source <(imsictl completion zsh)
_imsictl() {
    local -a cmds conn
    cmds=(
`)
	for _, c := range visibleCommands() {
		fmt.Fprintf(&b, "        %q\n", c.name+":"+c.summary)
	}
	b.WriteString(`    )
    local cmd="" i
    for ((i = 2; i < CURRENT; i++)); do
        case "${words[i]}" in
            --socket|--url|--token-file|--ca-file) conn+=("${words[i]}" "${words[i+1]}"); ((i++)) ;;
`)
	fmt.Fprintf(&b, "            %s) ((i++)) ;;\n", strings.Join(valueFlags, "|"))
	b.WriteString(`            -*) ;;
            *) [[ -z "$cmd" ]] && cmd="${words[i]}" ;;
        esac
    done
    case "${words[CURRENT-1]}" in
        --socket|--token-file|--ca-file|--device) _files; return ;;
`)
	fmt.Fprintf(&b, "        --dialect) compadd -- %s; return ;;\n", dialects)
	fmt.Fprintf(&b, "        %s) return ;;\n", strings.Join(without(valueFlags, "--socket", "--token-file", "--ca-file", "--device", "--dialect"), "|"))
	b.WriteString("    esac\n")
	fmt.Fprintf(&b, "    local -a flags=(%s)\n", strings.Join(globalFlags, " "))
	b.WriteString("    case \"$cmd\" in\n")
	for _, c := range sortedKeys(commandFlags) {
		if c == "probe" {
			fmt.Fprintf(&b, "        probe) flags=(%s) ;;\n", strings.Join(commandFlags[c], " "))
			continue
		}
		fmt.Fprintf(&b, "        %s) flags+=(%s) ;;\n", c, strings.Join(commandFlags[c], " "))
	}
	b.WriteString("    esac\n")
	b.WriteString(`    if [[ "${words[CURRENT]}" == -* ]]; then compadd -- $flags; return; fi
    case "$cmd" in
        "") _describe 'command' cmds ;;
        switch|pin) compadd -- ${(f)"$(imsictl $conn __complete profiles 2>/dev/null)"} ;;
        completion) compadd -- bash zsh fish ;;
        help) _describe 'command' cmds ;;
        config) if [[ "${words[CURRENT-1]}" == validate ]]; then _files; else compadd -- validate; fi ;;
        threat) compadd -- ack ;;
    esac
}
if [[ "${funcstack[1]}" == _imsictl ]]; then _imsictl "$@"; else compdef _imsictl imsictl; fi
`)
	return b.String()
}

func fishCompletion() string {
	var b strings.Builder
	b.WriteString(`# fish completion for imsictl. Install:
#   imsictl completion fish > ~/.config/fish/completions/imsictl.fish
complete -c imsictl -f
`)
	for _, c := range visibleCommands() {
		fmt.Fprintf(&b, "complete -c imsictl -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(c.summary))
	}
	for _, f := range globalFlags {
		req := ""
		if contains(valueFlags, f) {
			req = " -r"
		}
		fmt.Fprintf(&b, "complete -c imsictl -l %s%s\n", strings.TrimPrefix(f, "--"), req)
	}
	for _, c := range sortedKeys(commandFlags) {
		for _, f := range commandFlags[c] {
			if contains(globalFlags, f) {
				continue
			}
			req := ""
			if contains(valueFlags, f) {
				req = " -r"
			}
			fmt.Fprintf(&b, "complete -c imsictl -n '__fish_seen_subcommand_from %s' -l %s%s\n", c, strings.TrimPrefix(f, "--"), req)
		}
	}
	b.WriteString(`complete -c imsictl -n '__fish_seen_subcommand_from probe' -l device -F -r
complete -c imsictl -l socket -F -r
complete -c imsictl -l token-file -F -r
complete -c imsictl -l ca-file -F -r
`)
	fmt.Fprintf(&b, "complete -c imsictl -n '__fish_seen_subcommand_from probe' -l dialect -x -a %s\n", fishQuote(dialects))
	b.WriteString(`complete -c imsictl -n '__fish_seen_subcommand_from switch pin' -a '(imsictl __complete profiles 2>/dev/null)'
complete -c imsictl -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'
complete -c imsictl -n '__fish_seen_subcommand_from config' -a validate
complete -c imsictl -n '__fish_seen_subcommand_from threat' -a ack
complete -c imsictl -n '__fish_seen_subcommand_from validate' -F
`)
	fmt.Fprintf(&b, "complete -c imsictl -n '__fish_seen_subcommand_from help' -a %s\n", fishQuote(names(visibleCommands())))
	return b.String()
}

func fishQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}

func without(list []string, drop ...string) []string {
	var out []string
	for _, s := range list {
		if !contains(drop, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
