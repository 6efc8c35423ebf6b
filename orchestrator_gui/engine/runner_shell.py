"""Finding placeholders that a runner would paste into code (a shell script, ``python -c``, ...).

The runner never uses a shell itself: each argument of the template reaches
the program as one argument. But a template may *name* a shell, as in
``["sh", "-c", "agent {instructions}"]``; the shell then parses the
substituted text as code, and a TODO line containing ``$(rm -rf ~)`` runs
it. The same holds for any value: a workspace folder named ``x $(…)`` in
``{workspace}``, a mode slug, the path of ``{instructions_file}``.

:func:`find_code_placeholder` looks at a template (before expansion) and
says where a placeholder lands in code; the config check reports it as an
error and the runner refuses to start such a template. The safe form passes
each value as a positional argument of the script, which no shell parses::

    ["sh", "-c", "agent --file \\"$1\\"", "sh", "{instructions_file}"]

What counts as code (every name is compared without folder and ``.exe``,
case-insensitively, at the first argument that names a shell or
interpreter, so wrappers such as ``env A=1``, ``timeout 5``, ``sudo -u x``
or ``docker exec c`` in front are looked through):

* the script of ``sh``, ``bash``, ``zsh``, ``dash``, ``ksh``, ``csh``, ...
  with ``-c`` (also in clusters: ``-lc``, ``-ec``): the first operand after
  the options; ``fish -c``/``--command``/``-C``: the option's value;
* everything after ``cmd /c`` (``/k``, ``/r``), and every argument of a
  ``.bat``/``.cmd`` program (cmd.exe parses the whole line);
* everything after ``powershell``/``pwsh -Command`` (any prefix, ``-c``),
  the value of ``-EncodedCommand``, and for Windows PowerShell the first
  operand and all after it (its default is ``-Command``);
* the code of ``python -c``, ``node -e``/``-p``, ``perl -e``/``-E``,
  ``ruby -e``;
* the value of ``env -S``/``--split-string`` (env splits it into words).

Pure: no I/O; the caller gives the placeholder names. The work is linear in
the template's length (each argument is looked at a bounded number of times).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

#: Shells that run the first operand after their options as a script when ``-c`` is given.
POSIX_SHELLS = frozenset({"sh", "bash", "rbash", "dash", "ash", "zsh", "ksh", "ksh93", "mksh", "pdksh",
                          "oksh", "loksh", "yash", "posh", "csh", "tcsh"})
_PYTHON = re.compile(r"^(python(\d+(\.\d+)?)?w?|pypy\d*(\.\d+)?)$")


@dataclass(frozen=True)
class CodePlaceholder:
    """A placeholder that lands in code.

    Attributes
    ----------
    index : int
        The template argument that holds it.
    names : tuple of str
        The placeholders in that argument, in order of appearance.
    program : str
        What parses the argument, as the user wrote it, e.g. ``"sh -c"``,
        ``"cmd.exe /C"``, ``"python -c"``.
    family : str
        ``"posix"``, ``"fish"``, ``"cmd"``, ``"powershell"``, ``"python"``,
        ``"node"``, ``"perl"``, ``"ruby"`` or ``"env"``.
    shell : str
        The program's bare name (``"bash"``), used in the example.
    """

    index: int
    names: tuple[str, ...]
    program: str
    family: str
    shell: str

    def message(self, *, example: bool = True) -> str:
        """The error text: what happens, and (with ``example``) the safe form."""
        shown = ", ".join("{" + n + "}" for n in self.names)
        what = "the command line" if self.family in ("cmd", "env") else "the code"
        text = (f'{shown} is pasted into {what} that "{self.program}" parses, so a value containing '
                f"quotes, $(...), backticks or ; would run as code")
        if not example:
            return text
        return f"{text}; {_SAFE[self.family].replace('NAME', self.shell)}"


#: The safe form per family, with NAME for the program's bare name.
_SAFE = {
    "posix": 'pass values as positional arguments instead, e.g. ["NAME", "-c", "agent --file \\"$1\\"", '
             '"NAME", "{instructions_file}"]',
    "fish": 'pass values as arguments instead, e.g. ["fish", "-c", "agent --file $argv[1]", "{instructions_file}"]',
    "cmd": 'cmd.exe has no safe way to pass them; run the program directly, e.g. '
           '["agent.exe", "--file", "{instructions_file}"]',
    "powershell": 'pass values as script parameters instead, e.g. ["NAME", "-File", "agent.ps1", '
                  '"{instructions_file}"]',
    "python": 'pass values as arguments instead, e.g. ["NAME", "-c", "import sys, agent; agent.run(sys.argv[1])", '
              '"{instructions_file}"]',
    "node": 'pass values as arguments instead, e.g. ["NAME", "-e", "run(process.argv[1])", "{instructions_file}"]',
    "perl": 'pass values as arguments instead, e.g. ["NAME", "-e", "run($ARGV[0])", "{instructions_file}"]',
    "ruby": 'pass values as arguments instead, e.g. ["NAME", "-e", "run(ARGV[0])", "{instructions_file}"]',
    "env": 'give each value its own argument instead of env -S, e.g. ["env", "A=1", "agent", '
           '"--file", "{instructions_file}"]',
}


def find_code_placeholder(template: Sequence[str], placeholders: Collection[str]) -> CodePlaceholder | None:
    """The first argument of ``template`` that is code and holds a placeholder, or None when safe.

    Parameters
    ----------
    template : sequence of str
        A runner template, before expansion.
    placeholders : collection of str
        The names the runner substitutes (``{name}`` in an argument); other braces are ignored.

    Returns
    -------
    CodePlaceholder or None
    """
    if not placeholders:
        return None
    args = list(template)
    pattern = re.compile(r"\{(" + "|".join(re.escape(p) for p in placeholders) + r")\}")
    for index, family, program, shell in _code_arguments(args):
        names = tuple(dict.fromkeys(pattern.findall(args[index])))
        if names:
            return CodePlaceholder(index, names, program, family, shell)
    return None


def code_arguments(template: Sequence[str]) -> list[int]:
    """Indices of the arguments of ``template`` that a shell or interpreter parses as code."""
    return [index for index, *_ in _code_arguments(list(template))]


# ----------------------------------------------------------------- parsing

Found = tuple[int, str, str, str]  # index, family, program as written, bare name


def _bare(arg: str) -> str:
    name = arg.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


def _code_arguments(args: list[str]) -> list[Found]:
    """Code arguments of the first shell or interpreter in ``args`` (the ones before it are wrappers)."""
    for j, arg in enumerate(args):
        name = _bare(arg)
        if j == 0 and name.endswith((".bat", ".cmd")):
            # Windows runs a batch file through cmd.exe, which parses the whole line.
            return [(k, "cmd", f"{arg} (cmd.exe)", name) for k in range(1, len(args))]
        if name == "env":
            split = _env_split(args, j)
            if split is not None:
                return split
            continue
        parse = _PARSERS.get(name) or (_python if _PYTHON.match(name) else None)
        if parse is not None:
            return parse(args, j, name)
    return []


def _env_split(args: list[str], j: int) -> list[Found] | None:
    """``env -S STRING``: env splits STRING into words itself (quotes in a value would split it)."""
    k = j + 1
    while k < len(args):
        a = args[k]
        if a.startswith("--split-string"):
            value = k if "=" in a else k + 1
            return [(value, "env", f"{args[j]} {a.split('=')[0]}", "env")] if value < len(args) else []
        if a == "--" or not a.startswith("-") or a == "-":
            return None
        letters = a[1:]
        if not a.startswith("--"):
            for i, ch in enumerate(letters):
                if ch == "S":
                    value = k if letters[i + 1:] else k + 1
                    return [(value, "env", f"{args[j]} -S", "env")] if value < len(args) else []
                if ch in "uC":  # value follows (attached or next)
                    k += 0 if letters[i + 1:] else 1
                    break
        elif a in ("--unset", "--chdir"):
            k += 1
        k += 1
    return None


def _posix(args: list[str], j: int, name: str) -> list[Found]:
    k, flag = j + 1, None
    while k < len(args):
        a = args[k]
        if a in ("--", "-"):
            k += 1
            break
        if a.startswith("--"):
            k += 2 if a in ("--rcfile", "--init-file") else 1
            continue
        if len(a) > 1 and a[0] in "-+":
            letters = a[1:]
            if a[0] == "-" and "c" in letters:
                flag = a
            k += 1 + letters.count("o") + letters.count("O")  # -o option / -O shopt take the next argument
            continue
        break
    if flag is None or k >= len(args):
        return []
    return [(k, "posix", f"{args[j]} {flag}", name if name in ("sh", "bash", "zsh", "dash", "ksh") else "sh")]


def _fish(args: list[str], j: int, name: str) -> list[Found]:
    out: list[Found] = []
    k = j + 1
    while k < len(args):
        a = args[k]
        if a == "--" or not a.startswith("-") or a == "-":
            break
        if a.startswith("--"):
            key, eq, _ = a[2:].partition("=")
            if key in ("command", "init-command"):
                value = k if eq else k + 1
                if value < len(args):
                    out.append((value, "fish", f"{args[j]} --{key}", "fish"))
                k = value + 1
                continue
            takes = key in ("debug", "debug-output", "features", "profile", "profile-startup",
                            "debug-stack-frames")
            k += 2 if takes and not eq else 1
            continue
        step = 1
        for i, ch in enumerate(a[1:], start=1):
            if ch in "cCdofp":  # take a value: attached, or the next argument
                value = k if a[i + 1:] else k + 1
                if ch in "cC" and value < len(args):
                    out.append((value, "fish", f"{args[j]} -{ch}", "fish"))
                step = value - k + 1
                break
        k += step
    return out


def _cmd(args: list[str], j: int, name: str) -> list[Found]:
    for k in range(j + 1, len(args)):
        a = args[k]
        if a[:2].lower() in ("/c", "/k", "/r"):
            # cmd.exe takes the rest of its command line as one command line, whatever the quoting.
            first = k if len(a) > 2 else k + 1
            return [(i, "cmd", f"{args[j]} {a[:2]}", "cmd") for i in range(first, len(args))]
        if not a.startswith("/"):
            break
    return []


_PS_VALUE = ("executionpolicy", "windowstyle", "version", "psconsolefile", "inputformat", "outputformat",
             "configurationname", "configurationfile", "workingdirectory", "settingsfile", "custompipename",
             "encodedarguments")
_PS_ALIAS = {"ep": "executionpolicy", "ex": "executionpolicy", "w": "windowstyle", "v": "version",
             "if": "inputformat", "inp": "inputformat", "o": "outputformat", "of": "outputformat",
             "wd": "workingdirectory", "e": "encodedcommand", "ec": "encodedcommand", "f": "file",
             "config": "configurationname"}


def _powershell(args: list[str], j: int, name: str) -> list[Found]:
    k = j + 1
    while k < len(args):
        a = args[k]
        if len(a) > 1 and a[0] in "-/":
            key, colon, _ = a[1:].lower().partition(":")
            if key and "command".startswith(key):  # -c, -com, -Command: the rest is one command
                first = k if colon else k + 1
                return [(i, "powershell", f"{args[j]} {a.split(':')[0]}", name) for i in range(first, len(args))]
            canon = _PS_ALIAS.get(key) or next((p for p in ("encodedcommand", "file", *_PS_VALUE)
                                                if p.startswith(key)), key)
            if canon == "encodedcommand":
                value = k if colon else k + 1
                return [(value, "powershell", f"{args[j]} {a.split(':')[0]}", name)] if value < len(args) else []
            if canon == "file":  # a script file: the following arguments are its parameters' values
                return []
            k += 2 if canon in _PS_VALUE and not colon else 1
            continue
        if name == "powershell":  # Windows PowerShell runs a bare operand as -Command
            return [(i, "powershell", f"{args[j]} (-Command)", name) for i in range(k, len(args))]
        return []  # pwsh runs a bare operand as -File
    return []


Parser = Callable[[list[str], int, str], list[Found]]


def _code_flag(family: str, code: str, valued: str = "", attached: str = "", stop: str = "",
               code_attached: bool = True) -> Parser:
    """A parser for an interpreter whose ``-<code letter> CODE`` is program text.

    ``valued`` letters take a value (the rest of the cluster, else the next
    argument), ``attached`` letters only the rest of the cluster, ``stop``
    letters end the options (``python -m``); ``code_attached`` says whether
    ``-eCODE`` is code or just flags (node: ``-pe CODE``).
    """
    def parse(args: list[str], j: int, name: str) -> list[Found]:
        out: list[Found] = []
        k = j + 1
        while k < len(args):
            a = args[k]
            if a == "--" or a == "-" or not a.startswith("-"):
                break
            if a.startswith("--"):
                key, eq, _ = a[2:].partition("=")
                if family == "node" and key in ("eval", "print"):
                    value = k if eq else k + 1
                    if value < len(args):
                        out.append((value, family, f"{args[j]} --{key}", name))
                    k = value + 1
                    continue
                k += 1
                continue
            step = 1
            for i, ch in enumerate(a[1:], start=1):
                rest = a[i + 1:]
                if ch in stop:
                    return out  # the rest are the module's arguments
                if ch in attached:
                    break
                if ch in code:
                    value = k if rest and code_attached else k + 1
                    if value < len(args):
                        out.append((value, family, f"{args[j]} -{ch}", name))
                    if family == "python":
                        return out  # -c ends python's options
                    step = value - k + 1
                    break
                if ch in valued:
                    step = 1 if rest else 2
                    break
            k += step
        return out
    return parse


_python = _code_flag("python", "c", valued="WX", stop="m")
_PARSERS = {
    **{s: _posix for s in POSIX_SHELLS},
    "fish": _fish,
    "cmd": _cmd,
    "powershell": _powershell,
    "pwsh": _powershell,
    "node": _code_flag("node", "ep", valued="rC", code_attached=False),
    "nodejs": _code_flag("node", "ep", valued="rC", code_attached=False),
    "perl": _code_flag("perl", "eE", attached="MmIxilC0dD"),
    "ruby": _code_flag("ruby", "e", valued="IrCE", attached="xi0FKTW"),
}


__all__ = ["POSIX_SHELLS", "CodePlaceholder", "code_arguments", "find_code_placeholder"]
