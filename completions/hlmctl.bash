# bash completion for hlmctl: candidates come from `hlmctl __complete`, which
# walks the command tree, so this file never needs a list of its own.
_hlmctl()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur"))
    if [[ ${#COMPREPLY[@]} -eq 0 && $cur != -* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F _hlmctl hlmctl
