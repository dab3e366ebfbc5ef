# SPDX-License-Identifier: MIT
# fish completion for aoai-exec: its options, then a command and its arguments.
complete -c aoai-exec -s p -l profile -x -d 'Profile to use'
complete -c aoai-exec -l no-env -d 'Put no secret in the environment'
complete -c aoai-exec -l no-preload -d 'Leave LD_PRELOAD alone'
complete -c aoai-exec -l no-identity -d 'No managed-identity endpoint'
complete -c aoai-exec -s h -l help -d 'Show help'
complete -c aoai-exec -s V -l version -d 'Show the version'
complete -c aoai-exec -x -a '(__fish_complete_subcommand)'
