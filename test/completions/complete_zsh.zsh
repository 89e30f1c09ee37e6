# Types LINE and TAB into an interactive zsh (on a pseudo-terminal of the
# zsh/zpty module) whose $fpath starts with the installed completions, and
# prints every match the completion system adds: WORD<TAB>DISPLAY, where
# DISPLAY is what the menu shows ("migrate  -- Queue objects ...").
#
#   zsh -f complete_zsh.zsh COMPLETIONS_DIR LINE SCRATCH_DIR
zmodload zsh/zpty || exit 125
dir=$1 line=$2 out=$3/matches
rm -f $out $out.done
zpty shell zsh -f -i
zpty -w shell "fpath=(${(q)dir}/zsh/vendor-completions \$fpath); autoload -Uz compinit; compinit -u -d ${(q)3}/zcompdump"
zpty -w shell "bindkey '^I' complete-word; hlm_out=${(q)out}"
# Every completion function ends in compadd; this one records what matched
# (-A) with its display string (-D filters -d alike) and then adds it.
zpty -w shell 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a hits displays
  local d=${@[(i)-d]} i
  (( d < $# )) && displays=("${(@P)${@[d+1]}}")
  builtin compadd -A hits -D displays "$@"
  for (( i = 1; i <= $#hits; i++ )); do print -r -- "$IPREFIX$hits[i]"$'\''\t'\''"$displays[i]" >>$hlm_out; done
  builtin compadd "$@"
}
hlm_done() { : >$hlm_out.done }
comppostfuncs=(hlm_done)'
zpty -w -n shell "$line"$'\t'
for i in {1..200}; do
  [[ -e $out.done ]] && break
  sleep 0.05
done
zpty -d shell
if [[ ! -e $out.done ]]; then
  print -u2 "complete_zsh.zsh: the completion of \"$line\" did not finish"
  exit 1
fi
[[ ! -e $out ]] || cat $out
