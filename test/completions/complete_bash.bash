# Runs the bash completion that the installed file registers for a
# command, the way bash's programmable completion calls it, and prints
# COMPREPLY one per line.
#
#   bash --norc complete_bash.bash COMPLETIONS_DIR LINE CWORD WORD...
#
# WORDs are LINE split as bash splits it (COMP_WORDBREAKS); WORD CWORD is
# the word being completed.
dir=$1 line=$2 cword=$3
shift 3
# bash-completion loads completions/<command> the first time it completes <command>.
# shellcheck disable=SC1090 # the staged copy of completions/hlm.bash
source "$dir/bash-completion/completions/$1" || exit 1
spec=$(complete -p "$1") || exit 1 # complete -F FUNCTION COMMAND...
function=${spec#*-F }
function=${function%% *}
COMP_WORDS=("$@")
COMP_CWORD=$cword
COMP_LINE=$line
COMP_POINT=${#line}
"$function" "$1" "${COMP_WORDS[cword]}" "${COMP_WORDS[cword - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
