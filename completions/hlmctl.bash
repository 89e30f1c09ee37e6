# bash completion for hlmctl: candidates come from `hlmctl __complete`, which
# walks the command tree, so this file never needs a list of its own.
_hlmctl()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local IFS=$'\n'
    local out
    out=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
    if [[ $out == *:files* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$out" -- "$cur"))
    fi
}
complete -F _hlmctl hlmctl
