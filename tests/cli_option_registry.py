"""Which test proves each command-line option works, and each exit code of each command.

``tests/test_cli_option_registry.py`` walks the argparse parsers (``graphexplain.cli.
build_parser()``) and fails when an option has no entry here, when an entry names a test
that does not exist, or when an entry is left for an option that no longer exists.

A test named for an option must fail if the option were ignored: it compares the output
with and without the option, or asserts a value only the option can produce.

Keys are ``"COMMAND OPTION"`` with the option's first long spelling (``--quiet``, not
``-q``), or the positional argument's name (``explain program``); the top level's options
are plain (``--version``). Values are pytest node ids without parameters, or one of:

- ``INERT: why`` — an option the command accepts but on which nothing can depend; the named
  test (after ``test:``) asserts that it changes nothing, so giving it an effect forces an
  update here. Each one is a product finding.
"""

CLI = "tests/test_cli.py"
OPT = "tests/test_cli_options.py"
EXIT = "tests/test_exit_codes.py"
TORCH = "tests/test_torch_cli.py"
FD = "tests/test_fd_study.py"
CHECK = "tests/test_check.py"
I18N = "tests/test_i18n.py"

OPTIONS: dict[str, str] = {
    # the top level
    "--help": f"{EXIT}::test_top_level_exit_codes",
    "--version": f"{OPT}::test_version_is_the_packages",
    # explain
    "explain program": f"{CLI}::test_seed_example",
    "explain --help": f"{EXIT}::test_every_command_has_help",
    "explain --file": f"{CLI}::test_stdin_and_file",
    "explain --at": f"{OPT}::test_explain_at_is_the_point",
    "explain --output": f"{CLI}::test_output_choice_and_const",
    "explain --const": f"{CLI}::test_output_choice_and_const",
    "explain --format": f"{OPT}::test_explain_format_program_is_the_program_again",
    "explain --render": f"{CLI}::test_render_statements_in_any_order",
    "explain --view": f"{OPT}::test_explain_view_backward_only",
    "explain --wrt": f"{OPT}::test_explain_wrt_highlights_its_paths",
    "explain --partials": f"{CLI}::test_diagram_options_change_the_drawing",
    "explain --diagram": f"{OPT}::test_explain_diagram_network_is_refused_for_an_expression",
    "explain --no-verify": f"{OPT}::test_explain_no_verify_skips_the_checks",
    "explain --limit": f"{OPT}::test_explain_limit_lowers_and_raises",
    "explain --out": f"{CLI}::test_json_output_and_report_file",
    "explain --sgd": f"{OPT}::test_explain_sgd_json_and_markdown",
    "explain --steps": f"{OPT}::test_explain_sgd_json_and_markdown",
    "explain --h": f"{FD}::test_h_on_the_command_line",
    "explain --quiet": f"{OPT}::test_explain_quiet_prints_nothing",
    "explain --debug": f"{EXIT}::test_exit_1_is_an_internal_error_with_a_hint",
    "explain --lang": f"{I18N}::test_explain_in_chinese_keeps_every_formula",
    # mlp
    "mlp --help": f"{EXIT}::test_every_command_has_help",
    "mlp --layers": f"{OPT}::test_mlp_layers_and_no_bias",
    "mlp --no-bias": f"{OPT}::test_mlp_layers_and_no_bias",
    "mlp --activation": f"{OPT}::test_mlp_activation",
    "mlp --output-activation": f"{OPT}::test_mlp_output_activation",
    "mlp --loss": f"{OPT}::test_mlp_loss",
    "mlp --seed": f"{OPT}::test_mlp_seed_draws_other_weights",
    "mlp --x": f"{OPT}::test_mlp_x_y_and_target_are_the_sample",
    "mlp --y": f"{OPT}::test_mlp_x_y_and_target_are_the_sample",
    "mlp --target": f"{OPT}::test_mlp_x_y_and_target_are_the_sample",
    "mlp --format": f"{OPT}::test_mlp_formats",
    "mlp --render": f"{CLI}::test_diagram_options_change_the_drawing",
    "mlp --view": f"{OPT}::test_mlp_view",
    "mlp --wrt": f"{CLI}::test_wrt_takes_a_label_in_every_mode",
    "mlp --partials": f"{OPT}::test_mlp_partials_on_the_circuit",
    "mlp --diagram": f"{CLI}::test_diagram_options_change_the_drawing",
    "mlp --expand": f"{CLI}::test_diagram_options_change_the_drawing",
    "mlp --no-verify": f"{OPT}::test_mlp_no_verify_skips_the_checks",
    "mlp --sgd": f"{OPT}::test_mlp_sgd_and_steps",
    "mlp --steps": f"{OPT}::test_mlp_sgd_and_steps",
    "mlp --h": f"{OPT}::test_mlp_h_is_the_step",
    "mlp --limit": f"{OPT}::test_mlp_limit",
    "mlp --cost": "tests/test_scale.py::test_cost_report",
    "mlp --out": f"{OPT}::test_mlp_out_writes_the_report_to_a_file",
    "mlp --quiet": f"{OPT}::test_mlp_quiet_prints_nothing",
    "mlp --debug": f"{EXIT}::test_exit_1_is_an_internal_error_with_a_hint",
    "mlp --lang": f"{I18N}::test_every_command_takes_lang",
    "mlp --claim": f"{CHECK}::test_mlp_claim_without_the_w2_2_2_path_names_it",
    # torch
    "torch spec": f"{OPT}::test_torch_formats",
    "torch --help": f"{EXIT}::test_every_command_has_help",
    "torch --gradient": f"{TORCH}::test_gradient_option_is_the_vector_jacobian_product",
    "torch --format": f"{OPT}::test_torch_formats",
    "torch --render": f"{OPT}::test_torch_view",
    "torch --view": f"{OPT}::test_torch_view",
    "torch --wrt": f"{OPT}::test_torch_wrt_highlights_its_paths",
    "torch --partials": f"{OPT}::test_torch_partials_in_the_explorer",
    "torch --diagram": f"{OPT}::test_torch_diagram_in_the_explorer",
    "torch --expand": f"{OPT}::test_torch_expand_in_the_explorer",
    "torch --no-verify": f"{OPT}::test_torch_no_verify_skips_the_checks",
    "torch --sgd": f"{TORCH}::test_sgd_fits_the_seed_line",
    "torch --steps": f"{TORCH}::test_sgd_fits_the_seed_line",
    "torch --quiet": f"{OPT}::test_torch_quiet_prints_nothing",
    "torch --debug": f"{EXIT}::test_exit_1_is_an_internal_error_with_a_hint",
    "torch --lang": f"{I18N}::test_every_command_takes_lang",
    # demo
    "demo --help": f"{EXIT}::test_every_command_has_help",
    "demo --out": f"{OPT}::test_demo_out_and_quiet",
    "demo --quiet": f"{OPT}::test_demo_out_and_quiet",
    "demo --debug": f"{EXIT}::test_exit_1_is_an_internal_error_with_a_hint",
    "demo --lang": f"{I18N}::test_the_demo_in_chinese",
    # fd-study
    "fd-study program": f"{FD}::test_fd_study_command_json_and_plot",
    "fd-study --help": f"{EXIT}::test_every_command_has_help",
    "fd-study --file": f"{OPT}::test_fd_study_file_at_wrt_and_output",
    "fd-study --at": f"{OPT}::test_fd_study_file_at_wrt_and_output",
    "fd-study --wrt": f"{OPT}::test_fd_study_file_at_wrt_and_output",
    "fd-study --output": f"{OPT}::test_fd_study_file_at_wrt_and_output",
    "fd-study --format": f"{FD}::test_fd_study_command_json_and_plot",
    "fd-study --plot": f"{FD}::test_fd_study_command_json_and_plot",
    "fd-study --out": f"{OPT}::test_fd_study_out_and_quiet",
    "fd-study --quiet": f"{OPT}::test_fd_study_out_and_quiet",
    "fd-study --debug": f"{EXIT}::test_exit_1_is_an_internal_error_with_a_hint",
    "fd-study --lang": f"{I18N}::test_every_command_takes_lang",
    # ops
    "ops --help": f"{EXIT}::test_every_command_has_help",
    "ops --debug": f"{EXIT}::test_ops_debug_shows_the_traceback",
    # check
    "check program": f"{CHECK}::test_a_right_claim_is_correct_and_exits_0",
    "check --help": f"{CHECK}::test_check_help",
    "check --file": f"{CHECK}::test_check_reads_a_file_and_writes_a_file",
    "check --at": f"{CHECK}::test_a_wrong_claim_gives_a_point_both_values_and_exits_3",
    "check --const": f"{CHECK}::test_a_constant_has_no_gradient_to_claim",
    "check --claim": f"{CHECK}::test_a_wrong_claim_gives_a_point_both_values_and_exits_3",
    "check --samples": f"{CHECK}::test_check_samples_sets_the_number_of_points",
    "check --format": f"{CHECK}::test_json_verdicts",
    "check --output": f"{CHECK}::test_check_output_chooses_what_is_differentiated",
    "check --out": f"{CHECK}::test_check_reads_a_file_and_writes_a_file",
    "check --quiet": f"{CHECK}::test_check_quiet_prints_nothing_and_keeps_the_exit_code",
    "check --debug": f"{CHECK}::test_check_internal_error_exits_1_and_debug_shows_it",
    "check --lang": f"{CHECK}::test_check_in_chinese",
}

#: ``CANNOT: why``: a command with no way to give this exit code; the registry test asserts
#: the reason is written, and test_exit_codes asserts the command's code agrees.
CANNOT = "CANNOT: "

# the commands that verify gradients: each exit code has the same test, run per command
VERIFYING = {0: f"{EXIT}::test_exit_0", 1: f"{EXIT}::test_exit_1_is_an_internal_error_with_a_hint",
             2: f"{EXIT}::test_exit_2_is_bad_input_in_one_line",
             3: f"{EXIT}::test_exit_3_when_a_check_disagrees"}

EXIT_CODES: dict[str, dict[int, str]] = {
    "graphexplain": {  # the top level: --version, --help, no command
        0: f"{EXIT}::test_top_level_exit_codes",
        1: CANNOT + "--version and --help print and exit inside argparse, before any stage "
                    "of ours runs; the top level itself has no stage that could fail",
        2: f"{EXIT}::test_top_level_exit_codes",
        3: CANNOT + "the top level checks nothing; only a command verifies gradients",
    },
    **{command: dict(VERIFYING) for command in ("explain", "mlp", "torch", "demo")},
    "fd-study": {0: f"{EXIT}::test_exit_0",
                 1: f"{EXIT}::test_exit_1_is_an_internal_error_with_a_hint",
                 2: f"{EXIT}::test_exit_2_is_bad_input_in_one_line",
                 3: CANNOT + "fd-study studies the central difference against h; it runs no "
                             "verifier (explain(..., verify=False)) and has nothing to "
                             "disagree with"},
    "ops": {0: f"{EXIT}::test_exit_0", 1: f"{EXIT}::test_exit_1_is_an_internal_error_with_a_hint",
            2: f"{EXIT}::test_exit_2_is_bad_input_in_one_line",
            3: CANNOT + "ops prints the op table; it computes and verifies nothing"},
    "check": {0: f"{CHECK}::test_a_right_claim_is_correct_and_exits_0",
              1: f"{CHECK}::test_check_internal_error_exits_1_and_debug_shows_it",
              2: f"{CHECK}::test_a_malformed_claim_is_one_line_and_exits_2",
              3: f"{CHECK}::test_a_wrong_claim_gives_a_point_both_values_and_exits_3"},
}
