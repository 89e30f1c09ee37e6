# fish completion for hlmctl, hlm-dispatch and hlm-handler. The candidates
# and their descriptions come from the tool itself (`TOOL __complete
# --describe WORD...` walks its CLI11 tree), so this file keeps no list
# that could drift from the CLI.
function __hlm_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l lines ($words[1] __complete --describe $words "$current" 2>/dev/null)
    if contains -- :files $lines
        # --opt=PATH: complete the part after "=", keep the "--opt=".
        set -l prefix (string match -r -- '^-[^=]*=' "$current")
        __fish_complete_path (string replace -r -- '^-[^=]*=' '' "$current") | string replace -r -- '^' "$prefix"
        return
    end
    string join \n -- $lines
end

complete -c hlmctl -f -a '(__hlm_complete)'
complete -c hlm-dispatch -f -a '(__hlm_complete)'
complete -c hlm-handler -f -a '(__hlm_complete)'
