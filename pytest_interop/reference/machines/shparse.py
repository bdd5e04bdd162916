"""A small POSIX sh parser: quoting, `$var`, `$(...)`, pipes, `&&`/`||`/`;`, redirections,
`if`/`for`, `{ }` and `( )`.

Quoting is kept apart from the text, so the interpreter expands exactly what sh would: a
single-quoted `$(touch x)` stays text, an unquoted one runs. That is what lets the suite prove
that arguments sent through `shlex.join` cannot inject commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LIT, DQ, BARE = "lit", "dq", "bare"  # quoted literal; double-quoted (expands $); unquoted
HEREDOC, HEREDOC_LITERAL = "heredoc", "heredoc-literal"  # a here-document body, expanded or not


class ShellSyntaxError(Exception):
    pass


@dataclass
class Word:
    parts: list[tuple[str, str]] = field(default_factory=list)

    def plain(self) -> str | None:
        """The word's text if it is one unquoted run without expansions (reserved words)."""
        if len(self.parts) == 1 and self.parts[0][0] == BARE:
            return self.parts[0][1]
        return None


@dataclass
class Redirect:
    fd: int
    op: str  # ">", ">>", "<", ">&", "<&"
    target: Word


@dataclass
class Simple:
    assignments: list[tuple[str, Word]]
    words: list[Word]
    redirects: list[Redirect]


@dataclass
class Pipeline:
    commands: list[object]
    negate: bool = False


@dataclass
class AndOr:
    first: Pipeline
    rest: list[tuple[str, Pipeline]]


@dataclass
class CommandList:
    items: list[AndOr]


@dataclass
class If:
    branches: list[tuple[CommandList, CommandList]]
    otherwise: CommandList | None
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class For:
    name: str
    values: list[Word] | None
    body: CommandList
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class While:
    condition: CommandList
    body: CommandList
    until: bool
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Group:
    body: CommandList
    subshell: bool
    redirects: list[Redirect] = field(default_factory=list)


OPERATORS = ("&&", "||", ";;", "|", ";", "&", "(", ")", "\n")


def find_closing(text: str, start: int, opener: str = "(", closer: str = ")") -> int:
    """Index of the closer matching the opener just before start, skipping quoted text."""
    depth = 1
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "'":
            end = text.find("'", index + 1)
            if end < 0:
                raise ShellSyntaxError("Unterminated quoted string")
            index = end + 1
            continue
        if char == '"':
            index = _end_of_double_quote(text, index + 1) + 1
            continue
        if char == opener:
            depth += 1
        elif char == closer:
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise ShellSyntaxError(f'Syntax error: end of file unexpected (expecting "{closer}")')


def _end_of_double_quote(text: str, index: int) -> int:
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            return index
        if text.startswith("$(", index):
            index = find_closing(text, index + 2) + 1
            continue
        if char == "`":
            end = text.find("`", index + 1)
            if end < 0:
                raise ShellSyntaxError("Unterminated quoted string")
            index = end + 1
            continue
        index += 1
    raise ShellSyntaxError("Unterminated quoted string")


def tokenize(text: str) -> list[tuple[str, object]]:
    """Tokens: ("op", "&&"), ("redir", (fd, op)), ("word", Word)."""
    tokens: list[tuple[str, object]] = []
    pending_heredocs: list[tuple[Word, str, bool]] = []  # (placeholder, delimiter, strip tabs)
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\n" and pending_heredocs:
            tokens.append(("op", "\n"))
            index = _read_heredocs(text, index + 1, pending_heredocs)
            pending_heredocs = []
            continue
        if text.startswith("<<", index) and not text.startswith("<<<", index):
            strip_tabs = text.startswith("<<-", index)
            index += 3 if strip_tabs else 2
            while index < length and text[index] in " \t":
                index += 1
            delimiter_word, index = _read_word(text, index)
            quoted = any(kind != BARE for kind, _ in delimiter_word.parts)
            delimiter = "".join(part for _, part in delimiter_word.parts)
            placeholder = Word([(HEREDOC_LITERAL if quoted else HEREDOC, "")])
            pending_heredocs.append((placeholder, delimiter, strip_tabs))
            tokens.append(("redir", (0, "<<")))
            tokens.append(("word", placeholder))
            continue
        if char in " \t":
            index += 1
            continue
        if char == "\\" and text.startswith("\\\n", index):
            index += 2
            continue
        if char == "#":
            end = text.find("\n", index)
            index = length if end < 0 else end
            continue
        op = next((o for o in OPERATORS if text.startswith(o, index)), None)
        if op is not None:
            tokens.append(("op", op))
            index += len(op)
            continue
        redirect = _redirect_at(text, index)
        if redirect is not None:
            (fd, op_text), index = redirect
            tokens.append(("redir", (fd, op_text)))
            continue
        word, index = _read_word(text, index)
        tokens.append(("word", word))
    return tokens


def _read_heredocs(text: str, index: int, pending: list[tuple[Word, str, bool]]) -> int:
    """Fill each pending here-document with the lines that follow, up to its delimiter."""
    for placeholder, delimiter, strip_tabs in pending:
        body: list[str] = []
        while index < len(text):
            end = text.find("\n", index)
            line = text[index:] if end < 0 else text[index:end]
            index = len(text) if end < 0 else end + 1
            if strip_tabs:
                line = line.lstrip("\t")
            if line == delimiter:
                break
            body.append(line + "\n")
        placeholder.parts[0] = (placeholder.parts[0][0], "".join(body))
    return index


def _redirect_at(text: str, index: int) -> tuple[tuple[int, str], int] | None:
    start = index
    while index < len(text) and text[index].isdigit():
        index += 1
    digits = text[start:index]
    if index >= len(text) or text[index] not in "<>":
        return None
    if text.startswith("&>", start):  # not POSIX; bash's both-streams redirect is rare here
        return None
    for op in (">>", ">&", "<&", ">|", ">", "<"):
        if text.startswith(op, index):
            default_fd = 0 if op.startswith("<") else 1
            return (int(digits) if digits else default_fd, ">" if op == ">|" else op), index + len(
                op
            )
    return None


def _read_word(text: str, index: int) -> tuple[Word, int]:
    word = Word()
    bare: list[str] = []

    def flush_bare() -> None:
        if bare:
            word.parts.append((BARE, "".join(bare)))
            bare.clear()

    while index < len(text):
        char = text[index]
        if char in " \t\n;&|()<>":
            break
        if char == "\\":
            flush_bare()
            if index + 1 < len(text):
                word.parts.append((LIT, text[index + 1]))
            index += 2
            continue
        if char == "'":
            end = text.find("'", index + 1)
            if end < 0:
                raise ShellSyntaxError("Unterminated quoted string")
            flush_bare()
            word.parts.append((LIT, text[index + 1 : end]))
            index = end + 1
            continue
        if char == '"':
            end = _end_of_double_quote(text, index + 1)
            flush_bare()
            _double_quoted_parts(text[index + 1 : end], word)
            index = end + 1
            continue
        if text.startswith("$(", index):
            end = find_closing(text, index + 2)
            bare.append(text[index : end + 1])
            index = end + 1
            continue
        if text.startswith("${", index):
            end = text.find("}", index)
            if end < 0:
                raise ShellSyntaxError("Syntax error: Missing '}'")
            bare.append(text[index : end + 1])
            index = end + 1
            continue
        if char == "`":
            end = text.find("`", index + 1)
            if end < 0:
                raise ShellSyntaxError("Syntax error: EOF in backquote substitution")
            bare.append(text[index : end + 1])
            index = end + 1
            continue
        bare.append(char)
        index += 1
    flush_bare()
    if not word.parts:
        word.parts.append((LIT, ""))
    return word, index


def _double_quoted_parts(inner: str, word: Word) -> None:
    """Inside double quotes, a backslash escapes only $ ` " \\ and newline."""
    run: list[str] = []
    index = 0
    while index < len(inner):
        char = inner[index]
        if char == "\\" and index + 1 < len(inner) and inner[index + 1] in '$`"\\\n':
            if run:
                word.parts.append((DQ, "".join(run)))
                run.clear()
            word.parts.append((LIT, inner[index + 1]))
            index += 2
            continue
        run.append(char)
        index += 1
    if run or not word.parts:
        word.parts.append((DQ, "".join(run)))


RESERVED = {
    *("if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until"),
    *("{", "}", "!"),
}


class Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.position = 0

    def parse(self) -> CommandList:
        result = self._list(terminators=set())
        if self.position < len(self.tokens):
            raise ShellSyntaxError(f'Syntax error: "{self._describe()}" unexpected')
        return result

    # helpers
    def _peek(self) -> tuple[str, object] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _describe(self) -> str:
        token = self._peek()
        if token is None:
            return "end of file"
        if token[0] == "word":
            return token[1].plain() or "word"  # type: ignore[union-attr]
        return str(token[1]) if token[0] == "op" else "redirection"

    def _reserved(self) -> str | None:
        token = self._peek()
        if token is not None and token[0] == "word":
            plain = token[1].plain()  # type: ignore[union-attr]
            if plain in RESERVED:
                return plain
        return None

    def _skip_newlines(self) -> None:
        while self._peek() == ("op", "\n"):
            self.position += 1

    def _expect_reserved(self, word: str) -> None:
        self._skip_newlines()
        if self._reserved() != word:
            raise ShellSyntaxError(
                f'Syntax error: "{self._describe()}" unexpected (expecting "{word}")'
            )
        self.position += 1

    # grammar
    def _list(self, terminators: set[str]) -> CommandList:
        items: list[AndOr] = []
        while True:
            self._skip_newlines()
            token = self._peek()
            if token is None or self._reserved() in terminators or token == ("op", ")"):
                break
            items.append(self._and_or())
            token = self._peek()
            if token in (("op", ";"), ("op", "&"), ("op", "\n")):
                self.position += 1
                continue
            break
        return CommandList(items)

    def _and_or(self) -> AndOr:
        first = self._pipeline()
        rest = []
        while self._peek() in (("op", "&&"), ("op", "||")):
            op = str(self._peek()[1])  # type: ignore[index]
            self.position += 1
            self._skip_newlines()
            rest.append((op, self._pipeline()))
        return AndOr(first, rest)

    def _pipeline(self) -> Pipeline:
        negate = False
        if self._reserved() == "!":
            negate = True
            self.position += 1
        commands = [self._command()]
        while self._peek() == ("op", "|"):
            self.position += 1
            self._skip_newlines()
            commands.append(self._command())
        return Pipeline(commands, negate)

    def _command(self) -> object:
        reserved = self._reserved()
        if reserved == "if":
            node: object = self._if()
        elif reserved == "for":
            node = self._for()
        elif reserved in ("while", "until"):
            self.position += 1
            condition = self._list(terminators={"do"})
            self._expect_reserved("do")
            body = self._list(terminators={"done"})
            self._expect_reserved("done")
            node = While(condition, body, until=reserved == "until")
        elif reserved == "{":
            self.position += 1
            body = self._list(terminators={"}"})
            self._expect_reserved("}")
            node = Group(body, subshell=False)
        elif self._peek() == ("op", "("):
            self.position += 1
            body = self._list(terminators=set())
            if self._peek() != ("op", ")"):
                raise ShellSyntaxError('Syntax error: end of file unexpected (expecting ")")')
            self.position += 1
            node = Group(body, subshell=True)
        else:
            return self._simple()
        node.redirects = self._redirects()  # type: ignore[attr-defined]
        return node

    def _redirects(self) -> list[Redirect]:
        redirects = []
        while self._peek() is not None and self._peek()[0] == "redir":  # type: ignore[index]
            redirects.append(self._redirect())
        return redirects

    def _redirect(self) -> Redirect:
        fd, op = self._peek()[1]  # type: ignore[index,misc]
        self.position += 1
        token = self._peek()
        if token is None or token[0] != "word":
            raise ShellSyntaxError(f"Syntax error: {self._describe()} unexpected")
        self.position += 1
        return Redirect(fd, op, token[1])  # type: ignore[arg-type]

    def _simple(self) -> Simple:
        assignments: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        while True:
            token = self._peek()
            if token is None or token[0] == "op":
                break
            if token[0] == "redir":
                redirects.append(self._redirect())
                continue
            word: Word = token[1]  # type: ignore[assignment]
            if not words and self._is_assignment(word):
                name, value = self._split_assignment(word)
                assignments.append((name, value))
            else:
                words.append(word)
            self.position += 1
        if not (assignments or words or redirects):
            raise ShellSyntaxError(f'Syntax error: "{self._describe()}" unexpected')
        return Simple(assignments, words, redirects)

    @staticmethod
    def _is_assignment(word: Word) -> bool:
        kind, text = word.parts[0]
        if kind != BARE or "=" not in text:
            return False
        name = text.split("=", 1)[0]
        return name.isidentifier()

    @staticmethod
    def _split_assignment(word: Word) -> tuple[str, Word]:
        text = word.parts[0][1]
        name, rest = text.split("=", 1)
        value = Word(([(BARE, rest)] if rest else []) + word.parts[1:])
        if not value.parts:
            value.parts.append((LIT, ""))
        return name, value

    def _if(self) -> If:
        self.position += 1
        branches = []
        condition = self._list(terminators={"then"})
        self._expect_reserved("then")
        body = self._list(terminators={"elif", "else", "fi"})
        branches.append((condition, body))
        otherwise = None
        while True:
            self._skip_newlines()
            reserved = self._reserved()
            if reserved == "elif":
                self.position += 1
                condition = self._list(terminators={"then"})
                self._expect_reserved("then")
                branches.append((condition, self._list(terminators={"elif", "else", "fi"})))
            elif reserved == "else":
                self.position += 1
                otherwise = self._list(terminators={"fi"})
            else:
                break
        self._expect_reserved("fi")
        return If(branches, otherwise)

    def _for(self) -> For:
        self.position += 1
        token = self._peek()
        if token is None or token[0] != "word" or not (token[1].plain() or "").isidentifier():  # type: ignore[union-attr]
            raise ShellSyntaxError("Syntax error: Bad for loop variable")
        name = token[1].plain()  # type: ignore[union-attr]
        self.position += 1
        values: list[Word] | None = None
        self._skip_newlines()
        if self._reserved() == "in":
            self.position += 1
            values = []
            while (
                self._peek() is not None and self._peek()[0] == "word" and self._reserved() != "do"
            ):  # type: ignore[index]
                values.append(self._peek()[1])  # type: ignore[index,arg-type]
                self.position += 1
        if self._peek() in (("op", ";"), ("op", "\n")):
            self.position += 1
        self._expect_reserved("do")
        body = self._list(terminators={"done"})
        self._expect_reserved("done")
        return For(str(name), values, body)


def parse(text: str) -> CommandList:
    return Parser(text).parse()
