# Copyright 2026 customer_credit authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Customer Credit",
    "summary": "Prepaid customer credit: top up, spend and withdraw, with correct accounting",
    "version": "18.0.1.0.0",
    "category": "Sales",
    "license": "LGPL-3",
    "author": "customer_credit authors",
    "depends": ["account", "mail", "portal", "point_of_sale", "website_sale"],
    "data": [
        "security/customer_credit_security.xml",
        "security/ir.model.access.csv",
        "data/ir_sequence_data.xml",
        "data/mail_template_data.xml",
        "data/ir_cron_data.xml",
        "views/customer_credit_views.xml",
        "views/customer_credit_line_views.xml",
        "wizards/customer_credit_operation_wizard_views.xml",
        "wizards/customer_credit_lot_wizard_views.xml",
        "views/res_partner_views.xml",
        "views/account_journal_views.xml",
        "views/account_move_views.xml",
        "views/pos_payment_method_views.xml",
        "views/res_config_settings_views.xml",
        "views/menus.xml",
    ],
    "demo": ["demo/customer_credit_demo.xml"],
    "assets": {
        "web.assets_tests": ["customer_credit/static/tests/tours/**/*"],
    },
    "post_init_hook": "_post_init_hook",
}
