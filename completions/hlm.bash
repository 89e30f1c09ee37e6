# bash completion for hlmctl, hlm-dispatch and hlm-handler. The candidates
# come from the tool itself (`TOOL __complete WORD...` walks its CLI11
# tree), so this file keeps no list that could drift from the CLI.
_hlm_complete()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local -a words=("${COMP_WORDS[@]:0:COMP_CWORD}")
    # bash splits "--opt=value" into "--opt" "=" "value"; right after the
    # "=", the word to complete is empty, not "=".
    if [[ $cur == = ]]; then
        words+=("=")
        cur=
    fi
    local out line files=
    out=$("${COMP_WORDS[0]}" __complete "${words[@]}" "$cur" 2>/dev/null) || return 0
    COMPREPLY=()
    while IFS= read -r line; do
        if [[ $line == :files ]]; then
            files=1
        elif [[ -n $line ]]; then
            COMPREPLY+=("$line")
        fi
    done <<<"$out"
    if [[ -n $files ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}
complete -F _hlm_complete hlmctl hlm-dispatch hlm-handler
