/** @odoo-module */

import { registry } from "@web/core/registry";

// A credit user tops up a customer from the partner form, then checks the new lot and balance.
registry.category("web_tour.tours").add("customer_credit_backend_topup", {
    steps: () => [
        {
            content: "The smart button shows the current credit balance",
            trigger: ".o_form_view button[name=action_view_credit_lines] .o_stat_text:contains(Credit)",
        },
        {
            content: "Open the Customer Credit tab",
            trigger: ".o_notebook .nav-link:contains(Customer Credit)",
            run: "click",
        },
        {
            content: "Start a top-up",
            trigger: ".o_form_view button[name=action_credit_operation]:contains(Top-up)",
            run: "click",
        },
        {
            content: "The wizard proposes the cash journal",
            trigger: ".modal div[name=journal_id] input:value(Cash)",
        },
        {
            content: "Enter the amount",
            trigger: ".modal div[name=amount] input",
            run: "edit 75.25",
        },
        {
            content: "Confirm",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The new credit lot is shown, active with the full balance",
            trigger: ".o_breadcrumb .active:contains(ACC-)",
        },
        {
            trigger: ".o_form_view div[name=balance]:contains(75.25)",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Active)",
        },
        {
            content: "The lot carries an ACC reference",
            trigger: ".o_form_view div[name=name]:contains(ACC-)",
        },
    ],
});

// A manager tries to withdraw more than the balance: a clear error, nothing changes.
registry.category("web_tour.tours").add("customer_credit_backend_withdraw_error", {
    steps: () => [
        {
            trigger: ".o_notebook .nav-link:contains(Customer Credit)",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name=action_credit_operation]:contains(Withdraw)",
            run: "click",
        },
        {
            trigger: ".modal div[name=amount] input",
            run: "edit 100000",
        },
        {
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The user gets a clear error",
            trigger: ".o_error_dialog:contains(of credit available)",
        },
        {
            trigger: ".o_error_dialog .btn-primary",
            run: "click",
        },
        {
            trigger: ".modal .o_form_view div[name=amount]",
        },
    ],
});

// An invoice is paid from the customer's credit with the "Pay with Credit" button.
registry.category("web_tour.tours").add("customer_credit_invoice_pay", {
    steps: () => [
        {
            content: "Pay the posted invoice with credit",
            trigger: ".o_form_view button[name=action_pay_with_credit]",
            run: "click",
        },
        {
            content: "The wizard proposes the amount due, within the available credit",
            trigger: ".modal div[name=amount] input:value(115.00)",
        },
        {
            trigger: ".modal div[name=invoice_id] input:value(INV)",
        },
        {
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The invoice is paid",
            trigger: ".o_form_view .ribbon:contains(Paid), .o_form_view .o_widget_web_ribbon:contains(Paid)",
        },
    ],
});
