import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as NumberPopup from "@point_of_sale/../tests/tours/utils/number_popup_util";
import * as PartnerList from "@point_of_sale/../tests/tours/utils/partner_list_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import { registry } from "@web/core/registry";

const CREDIT = "Customer Credit";
const TOPUP = "Credit top-up";

function check(content, trigger) {
    return { content, trigger };
}

function creditDialog(text) {
    return [check(`credit popup: ${text}`, `.modal .modal-body:contains("${text}")`), Dialog.confirm()];
}

function topUp(amount) {
    return [
        ...ProductScreen.clickControlButton("Top up credit"),
        Dialog.is({ title: "Top up credit" }),
        ...NumberPopup.enterValue(amount),
        Dialog.confirm("Add"),
    ];
}

registry.category("web_tour.tours").add("CustomerCreditPosTopupTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            check(
                "the top-up product is not in the product grid",
                `.product-list:not(:has(.product-name:contains("${TOPUP}")))`
            ),
            // no customer yet: the till asks for one first
            ...ProductScreen.clickControlButton("Top up credit"),
            PartnerList.clickPartner("AA Desk Alice"),
            Dialog.is({ title: "Top up credit" }),
            check("the customer and their credit", `.modal .subtitle:contains("AA Desk Alice"):contains("20.00")`),
            // above the company's maximum: refused with a clear message, nothing added
            ...NumberPopup.enterValue("2000"),
            Dialog.confirm("Add"),
            ...creditDialog("at most"),
            ProductScreen.orderIsEmpty(),
            ...topUp("50"),
            ProductScreen.selectedOrderlineHas(TOPUP, "1", "50.00"),
            ProductScreen.clickPayButton(),
            // a top-up is not paid with credit
            PaymentScreen.clickPaymentMethod(CREDIT),
            ...creditDialog("Credit cannot pay a credit top-up"),
            PaymentScreen.emptyPaymentlines("50.00"),
            PaymentScreen.clickPaymentMethod("Cash", true, { remaining: "0.00" }),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            check("receipt: credit topped up", `.pos-receipt .customer-credit-topup:contains("50.00")`),
            check("receipt: nothing due", `.pos-receipt:not(:has(.customer-credit-now-due))`),
            ReceiptScreen.clickNextOrder(),
            // the new balance, read back from the server
            ProductScreen.clickPartnerButton(),
            check(
                "Alice's new credit in the partner list",
                `.partner-list .partner-line:contains("AA Desk Alice") .customer-credit-balance:contains("70.00")`
            ),
            ProductScreen.clickCustomer("AA Desk Alice"),
        ].flat(),
});

registry.category("web_tour.tours").add("CustomerCreditPosSettleDuesTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("AA Desk Bob"),
            check("nothing due yet", `.product-screen:not(:has(.customer-credit-due-badge))`),
            // pay later: credit beyond the balance (10.00), within the overdraft limit
            ProductScreen.addOrderline("Desk Widget", "1"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod(CREDIT, true, { amount: "30.00", remaining: "0.00" }),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            check("receipt: now due", `.pos-receipt .customer-credit-now-due:contains("20.00")`),
            ReceiptScreen.clickNextOrder(),

            // the customer now owes 20.00: shown when selected, and settled with a top-up line
            ProductScreen.clickPartnerButton(),
            check(
                "due in the partner list",
                `.partner-list .partner-line:contains("AA Desk Bob") .customer-credit-due:contains("20.00")`
            ),
            ProductScreen.clickCustomer("AA Desk Bob"),
            check("due on the customer button", `.set-partner .customer-credit-due-badge:contains("20.00")`),
            ...ProductScreen.clickControlButton("Settle dues"),
            ProductScreen.selectedOrderlineHas(TOPUP, "1", "20.00"),
            ProductScreen.clickPayButton(),
            check("due on the payment screen", `.partner-button .customer-credit-due-badge:contains("20.00")`),
            PaymentScreen.clickPaymentMethod("Cash", true, { remaining: "0.00" }),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            check("receipt: credit topped up", `.pos-receipt .customer-credit-topup:contains("20.00")`),
            check("receipt: nothing due any more", `.pos-receipt:not(:has(.customer-credit-now-due))`),
            ReceiptScreen.clickNextOrder(),
            ProductScreen.clickPartnerButton(),
            check(
                "nothing due in the partner list",
                `.partner-list .partner-line:contains("AA Desk Bob"):not(:has(.customer-credit-due))`
            ),
            ProductScreen.clickCustomer("AA Desk Bob"),
            // a customer who owes nothing: settling is refused with a message
            ...ProductScreen.clickControlButton("Settle dues"),
            ...creditDialog("owes nothing"),
            ProductScreen.orderIsEmpty(),
        ].flat(),
});
