package simulator

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Op is the form a command was written in.
type Op int

// Command forms (V.250 §5.3 and 27.007 §4.1).
const (
	OpExec Op = iota // AT+CIMI, ATI, ATE0
	OpRead           // AT+CSQ?  (also S-register query ATS3?)
	OpTest           // AT+COPS=?
	OpSet            // AT+CFUN=1,1
)

func (o Op) suffix() string {
	switch o {
	case OpRead:
		return "?"
	case OpTest:
		return "=?"
	case OpSet:
		return "="
	}
	return ""
}

// Command is one command out of a command line.
type Command struct {
	// Name is upper case: "+CSQ", "^ICCID", "E", "&F", "S3", "D".
	Name string
	Op   Op
	// Args is the raw text after "=" for OpSet, or a basic command's number
	// ("0" in ATE0); the dial string for D.
	Args string
}

// Key is how the timing model and the command log name the command:
// "+COPS=?", "+CGACT=", "+CSQ", "E".
func (c Command) Key() string { return c.Name + c.Op.suffix() }

func (c Command) String() string {
	if c.Op == OpSet {
		return c.Name + "=" + c.Args
	}
	return c.Name + c.Op.suffix() + c.Args
}

// Errors from ParseCommandLine.
var (
	// ErrNoPrefix: the line does not start with AT; a real modem ignores it.
	ErrNoPrefix = errors.New("simulator: command line does not start with AT")
	// ErrSyntax: the line starts with AT but cannot be split into commands.
	ErrSyntax = errors.New("simulator: command line syntax error")
)

// CommandLine is a parsed command line.
type CommandLine struct {
	Repeat   bool // "A/": run the previous line again
	Commands []Command
}

// maxLineLen bounds what the parser accepts; real modems have buffers of a
// few hundred to a few thousand bytes (CGLA carries up to 255-byte APDUs).
const maxLineLen = 4096

// ParseCommandLine splits one command line (without its CR) into commands.
// A leading ESC, spaces outside quotes and the case of AT and command names
// are ignored; extended commands are separated by ';' and basic ones may be
// run together (ATE0V1).
func ParseCommandLine(line string) (CommandLine, error) {
	line = strings.TrimLeft(line, "\x1b \t")
	if len(line) > maxLineLen {
		return CommandLine{}, fmt.Errorf("%w: line longer than %d bytes", ErrSyntax, maxLineLen)
	}
	if len(line) >= 2 && (line[0] == 'A' || line[0] == 'a') && line[1] == '/' {
		return CommandLine{Repeat: true}, nil
	}
	if len(line) < 2 || !strings.EqualFold(line[:2], "AT") {
		return CommandLine{}, ErrNoPrefix
	}
	body, err := stripSpaces(line[2:])
	if err != nil {
		return CommandLine{}, err
	}
	var cl CommandLine
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == ';':
			i++
		case strings.IndexByte("+^#$%!*", c) >= 0:
			cmd, n, err := parseExtended(body[i:])
			if err != nil {
				return CommandLine{}, err
			}
			cl.Commands = append(cl.Commands, cmd)
			i += n
		case c == 'D' || c == 'd':
			// The dial string runs to the end of the line, ';' included.
			cl.Commands = append(cl.Commands, Command{Name: "D", Op: OpExec, Args: body[i+1:]})
			i = len(body)
		case c == '&':
			if i+1 >= len(body) || !isLetter(body[i+1]) {
				return CommandLine{}, fmt.Errorf("%w: '&' without a command letter", ErrSyntax)
			}
			name := "&" + strings.ToUpper(body[i+1:i+2])
			j := i + 2
			k := digitsEnd(body, j)
			cl.Commands = append(cl.Commands, Command{Name: name, Op: OpExec, Args: body[j:k]})
			i = k
		case c == 'S' || c == 's':
			j := digitsEnd(body, i+1)
			if j == i+1 {
				return CommandLine{}, fmt.Errorf("%w: S without a register number", ErrSyntax)
			}
			cmd := Command{Name: "S" + body[i+1:j]}
			switch {
			case j < len(body) && body[j] == '?':
				cmd.Op = OpRead
				j++
			case j < len(body) && body[j] == '=':
				k := digitsEnd(body, j+1)
				cmd.Op, cmd.Args = OpSet, body[j+1:k]
				j = k
			}
			cl.Commands = append(cl.Commands, cmd)
			i = j
		case isLetter(c):
			j := digitsEnd(body, i+1)
			cmd := Command{Name: strings.ToUpper(body[i : i+1]), Op: OpExec, Args: body[i+1 : j]}
			if j < len(body) && body[j] == '?' {
				cmd.Op = OpRead
				j++
			}
			cl.Commands = append(cl.Commands, cmd)
			i = j
		default:
			return CommandLine{}, fmt.Errorf("%w: unexpected %q at column %d", ErrSyntax, c, i+3)
		}
	}
	return cl, nil
}

// parseExtended reads one extended command from s (which starts with its
// prefix character) and returns it with the number of bytes consumed.
func parseExtended(s string) (Command, int, error) {
	j := 1
	for j < len(s) && isNameChar(s[j]) {
		j++
	}
	if j == 1 {
		return Command{}, 0, fmt.Errorf("%w: %q has no command name", ErrSyntax, s[:1])
	}
	cmd := Command{Name: strings.ToUpper(s[:j]), Op: OpExec}
	switch {
	case j < len(s) && s[j] == '?':
		cmd.Op = OpRead
		j++
	case j+1 < len(s) && s[j] == '=' && s[j+1] == '?':
		cmd.Op = OpTest
		j += 2
	case j < len(s) && s[j] == '=':
		cmd.Op = OpSet
		k := j + 1
		inQ := false
		for ; k < len(s); k++ {
			if s[k] == '"' {
				inQ = !inQ
			}
			if s[k] == ';' && !inQ {
				break
			}
		}
		if inQ {
			return Command{}, 0, fmt.Errorf("%w: %s: unterminated string", ErrSyntax, cmd.Name)
		}
		cmd.Args = s[j+1 : k]
		j = k
	}
	if j < len(s) && s[j] != ';' {
		return Command{}, 0, fmt.Errorf("%w: %s: unexpected %q", ErrSyntax, cmd.Name, s[j])
	}
	return cmd, j, nil
}

// stripSpaces drops spaces and tabs outside double quotes.
func stripSpaces(s string) (string, error) {
	if !strings.ContainsAny(s, " \t") {
		if strings.Count(s, `"`)%2 != 0 {
			return "", fmt.Errorf("%w: unterminated string", ErrSyntax)
		}
		return s, nil
	}
	var b strings.Builder
	inQ := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			inQ = !inQ
		}
		if !inQ && (c == ' ' || c == '\t') {
			continue
		}
		b.WriteByte(c)
	}
	if inQ {
		return "", fmt.Errorf("%w: unterminated string", ErrSyntax)
	}
	return b.String(), nil
}

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isNameChar(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_' || c == '!' || c == '%' || c == '-' || c == '.'
}

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// Arg is one parameter of a set command.
type Arg struct {
	Text   string // without quotes
	Quoted bool
	Empty  bool // omitted: "AT+COPS=1,,"
}

// SplitArgs splits the text after '=' at commas outside quotes.
func SplitArgs(s string) ([]Arg, error) {
	if s == "" {
		return nil, nil
	}
	var out []Arg
	for {
		var a Arg
		s = strings.TrimLeft(s, " ")
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated string", ErrSyntax)
			}
			a = Arg{Text: s[1 : 1+end], Quoted: true}
			s = strings.TrimLeft(s[2+end:], " ")
			if s != "" && s[0] != ',' {
				return nil, fmt.Errorf("%w: text after a quoted string", ErrSyntax)
			}
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			a.Text = strings.TrimSpace(s[:end])
			a.Empty = a.Text == ""
			s = s[end:]
		}
		out = append(out, a)
		if s == "" {
			return out, nil
		}
		s = s[1:] // the comma
		if s == "" {
			return append(out, Arg{Empty: true}), nil
		}
	}
}

// argInt reads a decimal integer argument within [lo, hi].
func argInt(a Arg, lo, hi int) (int, bool) {
	if a.Empty || a.Quoted {
		return 0, false
	}
	n, err := strconv.Atoi(a.Text)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}
