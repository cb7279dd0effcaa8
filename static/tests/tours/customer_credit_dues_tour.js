/** @odoo-module */

import { registry } from "@web/core/registry";

// A credit user opens Sales > Credit Details > Dues, finds the overdrawn demo customer and sends a
// reminder by hand: Odoo's composer previews the mail with the credit statement attached.
registry.category("web_tour.tours").add("customer_credit_dues_send", {
    steps: () => [
        {
            content: "The dues list shows the overdrawn demo customer",
            trigger: ".o_list_view .o_data_row td[name=partner_id]:contains(Bob Lambert)",
        },
        {
            content: "with its amount due",
            trigger: ".o_list_view .o_data_row:contains(Bob Lambert) td[name=amount_due]:contains(30.00)",
        },
        {
            content: "The footer sums the amounts due",
            trigger: ".o_list_view tfoot .o_list_number:contains($)",
        },
        {
            content: "Select the customer",
            trigger: ".o_list_view .o_data_row:contains(Bob Lambert) .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Send a reminder",
            trigger: ".o_control_panel button[name=action_send_reminder]",
            run: "click",
        },
        {
            content: "The composer previews the first reminder",
            trigger: ".modal .o_mail_composer_form_view div[name=subject] input:value(amount due on your customer account)",
        },
        {
            content: "The mail is addressed to the customer",
            trigger: ".modal div[name=partner_ids] .o_tag:contains(Bob Lambert)",
        },
        {
            content: "The mail body is rendered for the customer",
            trigger: ".modal div[name=body]:contains(Dear Bob Lambert)",
        },
        {
            content: "The credit statement is attached",
            trigger: ".modal div[name=attachment_ids]:contains(Credit Statement - Bob Lambert)",
        },
        {
            content: "Send",
            trigger: ".modal footer button.o_mail_send:contains(Send)",
            run: "click",
        },
        {
            content: "The composer closes",
            trigger: "body:not(:has(.modal .o_mail_composer_form_view))",
        },
    ],
});
