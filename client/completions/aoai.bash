# SPDX-License-Identifier: MIT
# bash completion for aoai and aoai-exec.

_aoai()
{
	local cur prev cmds
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmds="add list remove headers token login logout lock unlock passwd status reload env check help"
	case $prev in
	-S | --socket | --policy)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	esac
	local i cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-S | --socket) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-S --socket -h --help -V --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		fi
		return
	fi
	case $cmd in
	help) COMPREPLY=($(compgen -W "$cmds" -- "$cur")) ;;
	env) COMPREPLY=($(compgen -W "-s --sh -c --csh --fish -h --help" -- "$cur")) ;;
	add) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "-t --lifetime --host --persist --json -h --help" -- "$cur")) ;;
	login) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "--device-code --browser --persist -h --help" -- "$cur")) ;;
	logout) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "-h --help" -- "$cur")) ;;
	check) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "-p --profile --policy --named-value --tenant --audience --issuer --client-app-id --claim --openid-config --json -h --help" -- "$cur")) ;;
	*) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "--json -h --help" -- "$cur")) ;;
	esac
}
complete -F _aoai aoai

_aoai_exec()
{
	local cur prev i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	[[ $prev == -p || $prev == --profile ]] && return
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-p | --profile) ((i++)) ;;
		--) ((i++)); break ;;
		-*) ;;
		*) break ;;
		esac
	done
	if ((i < COMP_CWORD)); then
		# completing COMMAND's own arguments
		if declare -F _command_offset >/dev/null; then
			_command_offset "$i"
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
	elif [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-p --profile --no-env --no-preload --no-identity -h --help -V --version --" -- "$cur"))
	else
		COMPREPLY=($(compgen -c -- "$cur"))
	fi
}
complete -F _aoai_exec aoai-exec
