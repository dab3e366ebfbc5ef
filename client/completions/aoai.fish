# SPDX-License-Identifier: MIT
# fish completion for aoai.
set -l cmds add list remove headers token login logout lock unlock passwd status reload env check help
complete -c aoai -f
complete -c aoai -s S -l socket -r -F -d 'Agent socket'
complete -c aoai -s h -l help -d 'Show help'
complete -c aoai -s V -l version -d 'Show the version'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a add -d 'Add a secret read from stdin'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a list -d 'List profiles and secrets'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a remove -d 'Forget a secret'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a headers -d 'Print the headers for a URL'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a token -d 'Print an access token'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a login -d 'Sign a person in for a profile'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a logout -d "Forget a profile's sign-in"
complete -c aoai -n '__fish_seen_subcommand_from login' -l device-code -d 'Sign in with a code on another device'
complete -c aoai -n '__fish_seen_subcommand_from login' -l browser -d 'Sign in with a browser'
complete -c aoai -n '__fish_seen_subcommand_from login' -l persist -d 'Keep the sign-in in the persistent store'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a lock -d 'Lock the agent'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a unlock -d 'Unlock the agent'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a passwd -d 'Set the passphrase of the persistent store'
complete -c aoai -n '__fish_seen_subcommand_from add' -l persist -d 'Keep it in the persistent store'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a status -d "Show the agent's state"
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a reload -d 'Re-read the configuration'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a env -d 'Print the environment for shells'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a check -d 'Validate a JWT as API Management would'
complete -c aoai -n "not __fish_seen_subcommand_from $cmds" -a help -d 'Show help'
complete -c aoai -n "__fish_seen_subcommand_from check" -s p -l profile -x -d "The agent's token for a profile"
complete -c aoai -n "__fish_seen_subcommand_from check" -l policy -r -F -d 'APIM policy file'
complete -c aoai -n "__fish_seen_subcommand_from check" -l named-value -x -d 'Fill {{NAME}} in the policy'
complete -c aoai -n "__fish_seen_subcommand_from check" -l tenant -x -d 'Entra tenant'
complete -c aoai -n "__fish_seen_subcommand_from check" -l audience -x -d 'Accepted audience'
complete -c aoai -n "__fish_seen_subcommand_from check" -l issuer -x -d 'Accepted issuer'
complete -c aoai -n "__fish_seen_subcommand_from check" -l client-app-id -x -d 'Accepted appid/azp'
complete -c aoai -n "__fish_seen_subcommand_from check" -l claim -x -d 'Required claim NAME=V1,V2'
complete -c aoai -n "__fish_seen_subcommand_from check" -l openid-config -x -d 'OpenID configuration URL'
complete -c aoai -n "__fish_seen_subcommand_from env" -s s -l sh -d 'sh syntax'
complete -c aoai -n "__fish_seen_subcommand_from env" -s c -l csh -d 'csh syntax'
complete -c aoai -n "__fish_seen_subcommand_from env" -l fish -d 'fish syntax'
complete -c aoai -n "__fish_seen_subcommand_from list status headers token check" -l json -d 'JSON output'
